// The one text front end of every TTS: pt-* text reaches each engine read the Brazilian way, once.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EspeakNgTtsProvider } from '../../src/shared/providers/espeak-tts.js';
import { OpenAiTtsProvider } from '../../src/shared/providers/openai-tts.js';
import { spokenText } from '../../src/shared/providers/spoken-text.js';
import { normalizePtBr } from '../../src/shared/pt-br/normalize-text.js';
import { startGroqStandin, type GroqStandin } from '../support/groq-standin.js';

const REPLY = 'R$ 3,50 às 14h30';
const SPOKEN = 'três reais e cinquenta centavos às catorze horas e trinta minutos';

describe('spokenText', () => {
  it.each(['pt-BR', 'pt', 'PT-br', 'pt_BR', 'pt-PT', ' pt-BR '])('reads %s the Brazilian way', (language) => {
    expect(spokenText(REPLY, language)).toBe(SPOKEN);
  });

  it.each(['en-US', 'en', 'es', 'fr-FR', 'ptx', ''])('leaves %s text as it is', (language) => {
    expect(spokenText(REPLY, language)).toBe(REPLY);
  });

  it('is the pt-BR normalisation itself, identifiers included', () => {
    const reply = 'Seu CPF 123.456.789-00 e o pedido nº 12345678 custam R$ 1.250,50.';
    expect(spokenText(reply, 'pt-BR')).toBe(normalizePtBr(reply));
    expect(spokenText(reply, 'pt-BR')).not.toMatch(/\d/);
  });
});

describe('espeak-ng gets the spoken text', () => {
  let folder: string;
  let recorded: string;
  let espeak: EspeakNgTtsProvider;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'voxq-spoken-'));
    recorded = join(folder, 'stdin.txt');
    // A stand-in binary: keeps what espeak-ng reads on stdin, then runs the real one on it.
    const binary = join(folder, 'espeak-ng');
    await writeFile(binary, `#!/bin/sh\ntee '${recorded}' | exec espeak-ng "$@"\n`);
    await chmod(binary, 0o755);
    espeak = new EspeakNgTtsProvider({ binary });
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('normalizes pt-BR before espeak-ng reads it, and still speaks', async () => {
    const audio = await espeak.synthesize(REPLY, { voice: 'pf_dora', language: 'pt-BR', speed: 1 });
    expect(await readFile(recorded, 'utf8')).toBe(SPOKEN);
    expect(audio.durationMs).toBeGreaterThan(1000);
  });

  it('sends English as it is', async () => {
    await espeak.synthesize('It costs $3.50.', { voice: 'af_heart', language: 'en-US', speed: 1 });
    expect(await readFile(recorded, 'utf8')).toBe('It costs $3.50.');
  });
});

describe('an OpenAI-compatible speech API gets the spoken text', () => {
  let standin: GroqStandin;
  let openai: OpenAiTtsProvider;

  beforeAll(async () => {
    standin = await startGroqStandin();
    openai = new OpenAiTtsProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, timeoutMs: 5000 });
  });

  afterAll(async () => {
    await standin.close();
  });

  it('sends pt-BR normalized and other languages as they are', async () => {
    await openai.synthesize(REPLY, { voice: 'pf_dora', language: 'pt-BR', speed: 1 });
    await openai.synthesize(REPLY, { voice: 'alloy', language: 'en-US', speed: 1 });
    const inputs = standin.requests.filter((r) => r.path.endsWith('/audio/speech')).map((r) => r.input);
    expect(inputs).toEqual([SPOKEN, REPLY]);
  });
});
