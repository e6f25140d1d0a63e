// The text front end every TTS provider shares: what the engine is given to say for a reply in a language.
// Portuguese (pt, pt-BR, pt_PT…, any case) is read the Brazilian way first ("R$ 3,50 às 14h30" → "três reais e
// cinquenta centavos às catorze horas e trinta minutos"), as espeak-ng, Kokoro and a speech API would otherwise
// read digits and symbols each their own way; other languages go as they are.
import { normalizePtBr } from '../pt-br/normalize-text.js';

const PORTUGUESE = /^pt(?:[-_]|$)/i;

/** The text to synthesize for `text` in the BCP-47 `language`; called once per synthesis. */
export function spokenText(text: string, language: string): string {
  return PORTUGUESE.test(language.trim()) ? normalizePtBr(text) : text;
}
