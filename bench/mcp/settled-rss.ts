/** This process's RSS once the garbage collector has run and the heap settled (run with --expose-gc). */
export async function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 150));
  }
  return process.memoryUsage().rss;
}
