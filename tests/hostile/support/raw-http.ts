// HTTP/1.1 written by hand on a socket, for what fetch will not do: send part of a request and
// stop, drip it, or ask with `Expect: 100-continue` and wait for the server's go-ahead. Every
// wait is on the socket's own events (data, close), never on a timer.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export class RawHttp {
  #data = Buffer.alloc(0);
  /** Where the next unread response starts in #data. */
  #offset = 0;
  #closed = false;
  #wake: (() => void) | undefined;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#wake?.();
    });
    // A reset after the server has answered and closed is part of what is tested, not a failure.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#closed = true;
        this.#wake?.();
        resolve();
      });
    });
  }

  static async open(baseUrl: string): Promise<RawHttp> {
    const url = new URL(baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    return new RawHttp(socket);
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once the server says 100 Continue; throws with the final response if it answered that instead. */
  async continued(): Promise<void> {
    const head = await this.#nextHead();
    if (head.status !== 100) {
      const response = await this.#finish(head);
      throw new Error(`expected 100 Continue, got ${response.status}: ${response.body}`);
    }
  }

  /** The next final response (a 100 Continue before it skipped), read whole by its Content-Length. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const head = await this.#nextHead();
      if (head.status !== 100) return this.#finish(head);
    }
  }

  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  async #until(ready: () => boolean, what: string): Promise<void> {
    while (!ready()) {
      if (this.#closed) throw new Error(`the connection closed before ${what}`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  async #nextHead(): Promise<{ status: number; headers: Record<string, string>; bodyAt: number }> {
    let end = -1;
    await this.#until(() => (end = this.#data.indexOf('\r\n\r\n', this.#offset)) >= 0, 'a response head');
    const [statusLine = '', ...lines] = this.#data.subarray(this.#offset, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.#offset = end + 4;
    return { status, headers, bodyAt: end + 4 };
  }

  async #finish(head: { status: number; headers: Record<string, string>; bodyAt: number }): Promise<RawResponse> {
    const length = Number(head.headers['content-length'] ?? 0);
    await this.#until(() => this.#data.length >= head.bodyAt + length, `a ${head.status} response's body`);
    this.#offset = head.bodyAt + length;
    return { status: head.status, headers: head.headers, body: this.#data.subarray(head.bodyAt, head.bodyAt + length).toString('utf8') };
  }
}

/** A request line and headers, ending in the blank line. */
export function requestHead(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: voxq.test\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}

/** A multipart/form-data body: text fields, then the file as `audio`. */
export function multipartBody(fields: Record<string, string>, audio: Uint8Array): { contentType: string; body: Buffer } {
  const boundary = 'voxqrawboundary';
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const body = Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="raw.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    Buffer.from(audio),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}
