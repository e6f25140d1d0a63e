// A local model hub: serves a Kokoro folder at /<model id>/resolve/<revision>/<file>, the layout
// transformers.js fetches from (its remoteHost + remotePathTemplate). Bodies go out in small
// chunks with a content-length, so the client's download progress runs for real.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubServer {
  url: string;
  /** Paths requested, in order (e.g. `onnx-community/Kokoro-82M-v1.0-ONNX/resolve/main/config.json`). */
  requests: string[];
  close(): Promise<void>;
}

const CHUNK_BYTES = 16 * 1024;

export async function startHubServer(modelId: string, files: ReadonlyMap<string, Uint8Array>): Promise<HubServer> {
  const requests: string[] = [];
  const prefix = `/${modelId}/resolve/`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://hub').pathname);
    requests.push(path.slice(1));
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
    const file = rest?.slice(rest.indexOf('/') + 1);
    const body = file === undefined ? undefined : files.get(file);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Entry not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let offset = 0;
    const pump = (): void => {
      while (offset < body.byteLength) {
        const chunk = body.subarray(offset, offset + CHUNK_BYTES);
        offset += chunk.byteLength;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
