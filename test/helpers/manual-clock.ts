/** A monotonic clock that moves only when a test moves it, in place of sleeping. */
export function manualClock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}
