/**
 * Waits for `work` but at most `ms`. The timer is cleared either way, so a bounded wait
 * (e.g. for hang-up acks) never keeps a Node process alive.
 */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
