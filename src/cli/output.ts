// Where the bootstrap commands print their results: stdout, replaceable in tests (the test
// runner's own protocol goes over the worker's stdout, so tests must not patch it).
export const output = {
  write(text: string): void {
    process.stdout.write(text);
  },
};
