// Times the Node.js peer (authorizer.mjs, or its esbuild bundle) the way tests/bench/node.py times the
// Python authorizer: from this script's first line, so the runtime's own boot is left out (the bench
// times an empty program of each runtime apart).
//
//   node run.mjs MODULE cold   load MODULE, one call; prints {"total","import"} (ms)
//   node run.mjs MODULE warm   one call, then per stdin line "N": N timed calls, one JSON list (ms)
//
// The event comes from BENCH_EVENT (JSON).
const started = performance.now();
const { pathToFileURL } = await import("node:url");
const peer = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);

if (process.argv[3] === "cold") {
  await peer.handler(event);
  const done = performance.now();
  console.log(JSON.stringify({ total: done - started, import: imported - started }));
} else {
  const { createInterface } = await import("node:readline");
  await peer.handler(event);
  console.log(JSON.stringify({ ready: true }));
  for await (const line of createInterface({ input: process.stdin })) {
    const rounds = Number(line);
    if (!rounds) break;
    const times = [];
    for (let index = 0; index < rounds; index += 1) {
      const start = performance.now();
      await peer.handler(event);
      times.push(performance.now() - start);
    }
    console.log(JSON.stringify(times));
  }
}
peer.dynamodb.destroy();
