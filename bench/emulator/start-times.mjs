// Run by the bench in a fresh Node process: how long an integration's test suite waits for
// Stageline through the library API. Times the import of the built package, the first
// `startStageline()` with its defaults, then further starts, each closed before the next (the
// close is not timed). Argument: how many further starts. Prints the figures as JSON.
const repeats = Number(process.argv[2] ?? 20);

let began = performance.now();
const { startStageline } = await import('../../dist/index.js');
const importMs = performance.now() - began;

began = performance.now();
const first = await startStageline();
const firstMs = performance.now() - began;
await first.close();

const startsMs = [];
for (let i = 0; i < repeats; i++) {
  began = performance.now();
  const stageline = await startStageline();
  startsMs.push(performance.now() - began);
  await stageline.close();
}

process.stdout.write(JSON.stringify({ importMs, firstMs, startsMs }));
