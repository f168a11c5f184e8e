// `npm run soak`: the crash test of the shipped templates (test/e2e/crash-templates.spec.ts), run
// again and again with other seeds and more orders — by default 20 runs of 5,000 orders, three
// SIGKILLs each. OMS_SOAK_RUNS, OMS_SOAK_ORDERS and OMS_SOAK_KILLS change that. Prints one line
// per run and a summary; exits 1 when any run failed (its output is printed).
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const runs = Number(process.env.OMS_SOAK_RUNS) || 20;
const orders = Number(process.env.OMS_SOAK_ORDERS) || 5000;
const kills = Number(process.env.OMS_SOAK_KILLS) || 3;
const spec = path.join(root, 'dist', 'test', 'e2e', 'crash-templates.spec.js');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

let failed = 0;
const started = Date.now();
for (let run = 1; run <= runs; run++) {
  const seed = `soak-${run}`;
  const t0 = Date.now();
  const result = spawnSync(
    process.execPath,
    [mocha, '--no-config', '--timeout', String(30 * 60 * 1000), '--reporter', 'spec', spec],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: {
        ...process.env,
        OMS_CRASH_ORDERS: String(orders),
        OMS_CRASH_KILLS: String(kills),
        OMS_CRASH_SEED: seed,
      },
    },
  );
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  const figures = (result.stdout || '')
    .split('\n')
    .filter((line) => /^ {6}\S/.test(line) && !/ Dec /.test(line))
    .map((line) => line.trim());
  if (result.status === 0) {
    console.log(`run ${run}/${runs} (seed ${seed}) passed in ${seconds} s`);
  } else {
    failed++;
    console.log(
      `run ${run}/${runs} (seed ${seed}) FAILED in ${seconds} s:\n${result.stdout}\n${result.stderr}`,
    );
  }
  for (const line of figures) console.log(`  ${line}`);
}
console.log(
  `soak: ${runs - failed} of ${runs} runs passed (${orders} orders, ${kills} kills each) in ` +
    `${((Date.now() - started) / 60000).toFixed(1)} min`,
);
process.exitCode = failed > 0 ? 1 : 0;
