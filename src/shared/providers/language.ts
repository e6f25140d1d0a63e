// One BCP-47 tag everywhere (pt-BR); each adapter maps it to what its engine expects.

const TAG = /^([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))*$/;

function primaryOf(tag: string): string {
  const trimmed = tag.trim();
  const match = TAG.exec(trimmed);
  if (!match?.[1]) throw new RangeError(`"${tag}" is not a language tag like pt-BR or en`);
  return match[1].toLowerCase();
}

/** ISO 639-1 code (Groq/Whisper `language`): pt-BR → pt. Throws when the primary subtag is not 2 letters. */
export function toIso6391(tag: string): string {
  const primary = primaryOf(tag);
  if (primary.length !== 2) throw new RangeError(`"${tag}" has no two-letter language code (ISO 639-1)`);
  return primary;
}

const ESPEAK_VOICES: Readonly<Record<string, string>> = {
  'pt-br': 'pt-br',
  'pt-pt': 'pt',
  'en-us': 'en-us',
  'en-gb': 'en-gb',
};

/** espeak-ng voice name: pt-BR → pt-br, pt-PT → pt, en-US → en-us, en-GB → en-gb, es → es, else the primary subtag. */
export function toEspeakVoice(tag: string): string {
  const primary = primaryOf(tag);
  const parts = tag.trim().toLowerCase().split(/[-_]/);
  const region = parts.find((p, i) => i > 0 && /^[a-z]{2}$/.test(p));
  const known = region ? ESPEAK_VOICES[`${primary}-${region}`] : undefined;
  return known ?? primary;
}

const WHISPER_NAMES: Readonly<Record<string, string>> = {
  english: 'en',
  portuguese: 'pt',
  spanish: 'es',
  french: 'fr',
  german: 'de',
  italian: 'it',
  dutch: 'nl',
  japanese: 'ja',
  chinese: 'zh',
  korean: 'ko',
  russian: 'ru',
  arabic: 'ar',
  hindi: 'hi',
  polish: 'pl',
  turkish: 'tr',
  ukrainian: 'uk',
  catalan: 'ca',
  swedish: 'sv',
};

/** Whisper's verbose_json `language` ("portuguese") → ISO 639-1 ("pt"); a 2-letter code passes through. */
export function fromWhisperLanguageName(name: string): string {
  const key = name.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(key)) return key;
  const code = WHISPER_NAMES[key];
  if (code) return code;
  try {
    return toIso6391(key);
  } catch {
    throw new RangeError(`unknown Whisper language "${name}"`);
  }
}
