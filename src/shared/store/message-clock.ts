// Message order: a per-process hybrid clock, so that messages saved in the same millisecond
// (a turn's user and assistant messages) still sort in the order they were saved.

let last = 0;

export interface MessageStamp {
  createdAt: Date;
  /** Microsecond-scale, strictly increasing in this process, consistent with `createdAt`. */
  seq: number;
}

/** Never goes backwards, even if the wall clock does; `createdAt` is derived from `seq`. */
export function nextMessageStamp(): MessageStamp {
  last = Math.max(Date.now() * 1000, last + 1);
  return { createdAt: new Date(Math.floor(last / 1000)), seq: last };
}
