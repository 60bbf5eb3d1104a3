/**
 * A queue that runs the work given to it one piece after another, in order, never two at once; a failure is
 * handed to its caller and does not stop the pieces after it.
 */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
}
