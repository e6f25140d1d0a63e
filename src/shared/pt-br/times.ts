// Times of day and durations: "14h30" / "14:30" → "catorze horas e trinta minutos", "2h" → "duas horas".
// The full spoken form (with "horas" and "minutos") is used rather than the clipped "catorze e trinta",
// because it is unambiguous for durations too ("1h30 de viagem"). "hora" is feminine: uma, duas, vinte e uma.
// 0h is "zero hora" (singular, as for 1) and 12:00 "doze horas", not "meia-noite"/"meio-dia", to keep the value.
import { cardinal } from './number-words.js';

// "14h", "8h05", "14h30min", "14h30m": the hour is 0–24, the minutes two digits.
const H_NOTATION = /(?<![\d.,:/])(\d{1,2})h(?:(\d{2})(?:min|m)?)?(?![\p{L}\d])/gu;
// "14:30", "9:05", "14:30:15": minutes (and seconds) always two digits, so "2:1" (a score) is left alone.
const COLON_NOTATION = /(?<![\d.,:/])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:]|[.,]\d)/g;

function count(n: number, singular: string, plural: string, gender: 'masculine' | 'feminine'): string {
  return `${cardinal(n, gender)} ${n <= 1 ? singular : plural}`;
}

function speakTime(hours: number, minutes: number, seconds: number): string | undefined {
  if (hours > 24 || minutes > 59 || seconds > 59) return undefined;
  const parts = [count(hours, 'hora', 'horas', 'feminine')];
  if (minutes > 0) parts.push(count(minutes, 'minuto', 'minutos', 'masculine'));
  if (seconds > 0) parts.push(count(seconds, 'segundo', 'segundos', 'masculine'));
  const last = parts.pop() ?? '';
  return parts.length === 0 ? last : `${parts.join(', ')} e ${last}`;
}

/** "14h30", "14h", "às 9h", "14:30", "12:00", "23:59:59". Values out of range (25:00) are left untouched. */
export function expandTimes(text: string): string {
  return text
    .replace(H_NOTATION, (match, hours: string, minutes?: string) => speakTime(Number(hours), Number(minutes ?? 0), 0) ?? match)
    .replace(
      COLON_NOTATION,
      (match, hours: string, minutes: string, seconds?: string) =>
        speakTime(Number(hours), Number(minutes), Number(seconds ?? 0)) ?? match,
    );
}
