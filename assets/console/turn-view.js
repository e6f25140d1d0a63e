// One turn in the history list: what the person said, the reply as it streams, how it ended
// (an interrupted reply shows what was heard, the rest struck through), its timings and a link
// to its trace.
import { t } from './i18n.js';

const ms = (value) => (typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value)} ms` : '—');

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A speaker's label that follows the page's language (setLanguage re-renders data-i18n). */
function label(key) {
  const strong = element('strong', '', t(key));
  strong.dataset.i18n = key;
  return strong;
}

export class TurnView {
  constructor(list, turnId) {
    this.turnId = turnId;
    this.item = element('li', 'turn');
    this.item.dataset.turnId = turnId;
    this.item.dataset.status = 'running';
    this.user = element('p', 'user');
    this.user.append(label('you'), ': ', element('span', 'transcript', '…'));
    this.reply = element('p', 'assistant');
    this.replyText = element('span', 'reply', '');
    this.reply.append(label('assistant'), ': ', this.replyText);
    this.outcome = element('p', 'outcome');
    this.timings = element('p', 'timings meta');
    this.item.append(this.user, this.reply, this.outcome, this.timings);
    list.append(this.item);
    this.item.scrollIntoView({ block: 'end' });
    this.text = '';
  }

  transcript(text) {
    this.item.querySelector('.transcript').textContent = text;
  }

  delta(text) {
    this.text += text;
    this.replyText.textContent = this.text;
    this.item.scrollIntoView({ block: 'end' });
  }

  /** The end event: completed, interrupted (heardText, playedMs) or failed. */
  end(event) {
    this.item.dataset.status = event.status;
    if (event.status === 'interrupted') {
      const heard = event.heardText ?? '';
      const rest = this.text.startsWith(heard) ? this.text.slice(heard.length) : '';
      this.replyText.replaceChildren(element('span', 'heard', heard));
      if (rest.trim() !== '') {
        const cut = element('del', 'unheard', rest);
        cut.title = t('unheard');
        this.replyText.append(cut);
      }
      this.outcome.textContent = t('turnInterrupted', { ms: Math.round(event.playedMs ?? 0) });
    } else if (event.status === 'failed') {
      this.outcome.textContent = t('turnFailed', { message: event.error?.message ?? '' });
    }
  }

  /** Per-turn timings: the page's own end of speech → first audio, and the turn's milestones after enqueue. */
  showTimings(speechToAudioMs, timing, traceUrl) {
    this.timings.textContent = t('timings', {
      speech: ms(speechToAudioMs),
      transcript: ms(timing?.transcriptMs),
      token: ms(timing?.firstTokenMs),
      audio: ms(timing?.firstAudioMs),
      total: ms(timing?.totalMs),
    });
    if (speechToAudioMs !== undefined) this.item.dataset.speechToAudioMs = String(Math.round(speechToAudioMs));
    if (traceUrl) {
      const link = element('a', 'trace', t('traceLink'));
      link.href = traceUrl;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      this.timings.append(' · ', link);
    }
  }
}

/** A stored message (GET …/messages) as a history line: after a reload or for a session's older turns. */
export function messageLine(list, message) {
  const item = element('li', `message ${message.role}`);
  item.append(label(message.role === 'user' ? 'you' : 'assistant'), ': ', element('span', '', message.content));
  list.append(item);
}
