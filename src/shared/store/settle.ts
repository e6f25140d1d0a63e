// The in-memory stores do their work synchronously; this turns a result or a throw into the
// promise the port promises, without deferring the work to a later tick.

export function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  });
}
