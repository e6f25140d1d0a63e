// Example 2 of the interface document: a pipeline that depends on the SttProvider and
// TtsProvider ports. TTS is espeak-ng (production, offline); STT is Groq's Whisper with
// GROQ_API_KEY, else the fake stands in for Groq's remote service. Run: npx tsx examples/02-stt-and-tts.ts
import { EspeakNgTtsProvider, FakeSttProvider, GroqSttProvider, type AudioFormat, type AudioInput, type SttProvider, type SynthesizedAudio, type TtsProvider } from 'voxq';
import { groqOptions, sampleAudio } from './support/offline.js';

class ConversationPipeline {
  constructor(
    private readonly stt: SttProvider,
    private readonly tts: TtsProvider,
  ) {}

  async processAudioConversation(audioInput: AudioInput, responseText: string): Promise<{ transcription: string; responseAudio: SynthesizedAudio; audioFormat: AudioFormat }> {
    const transcription = await this.stt.transcribe(audioInput, { language: 'pt-BR' });
    console.log(`User said: ${transcription.text}`);
    const responseAudio = await this.tts.synthesize(responseText, { voice: 'pf_dora', language: 'pt-BR', speed: 1.0 });
    return { transcription: transcription.text, responseAudio, audioFormat: this.tts.audioFormat() };
  }
}

const groq = groqOptions();
const pipeline = new ConversationPipeline(groq ? new GroqSttProvider(groq) : new FakeSttProvider({ transcripts: ['Olá, que horas são?'] }), new EspeakNgTtsProvider());
const result = await pipeline.processAudioConversation(await sampleAudio(), 'São três horas da tarde.');
const { bytes, durationMs } = result.responseAudio;
const format = result.audioFormat;
console.log(`Response audio: ${bytes.length} bytes, ${durationMs} ms of ${format.container}/${format.codec} at ${format.sampleRateHz} Hz`);

// prints: User said: \S+
// prints: Response audio: \d{4,} bytes, \d{3,} ms of wav/pcm_s16le at 22050 Hz
