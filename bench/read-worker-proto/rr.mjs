// usage: node rr.mjs DISTDIR DBDIR mode(worker|sync) conc reads
const [dist, dir, mode0, concS, readsS] = process.argv.slice(2);
const many = mode0.endsWith('-many'); const mode = mode0.replace('-many', '');
const { DB } = await import(`${dist}/src/index.js`);
const conc = Number(concS), reads = Number(readsS);
const cacheOpt = process.env.CACHE ? { cacheSize: Number(process.env.CACHE) } : {};
const db = await DB.open(dir, cacheOpt);
const rw = db.engine.readWorker;
if (mode === 'sync' && rw) rw.minBurst = Infinity;
let remote = 0, fellBack = 0;
if (rw) { const orig = rw.read.bind(rw); rw.read = (...a) => { remote++; return orig(...a).then((d) => { if (d === undefined) fellBack++; return d; }); }; }

let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
const keyOf = (i) => { const k = Buffer.allocUnsafe(16); let x = i; for (let j = 15; j >= 0; j--) { k[j] = 0x30 + (x % 10); x = Math.floor(x / 10); } return k; };
async function run(n) {
  let next = 0, found = 0;
  const w = many
    ? async () => { while ((next += 64) <= n) { const ks = []; for (let j = 0; j < 64; j++) ks.push(keyOf(rnd() % 1000000)); for (const v of await db.getMany(ks)) if (v) found++; } }
    : async () => { while (next++ < n) { if (await db.get(keyOf(rnd() % 1000000))) found++; } };
  const t0 = performance.now(); const c0 = process.cpuUsage(); const e0 = performance.eventLoopUtilization();
  await Promise.all(Array.from({ length: conc }, w));
  const ms = performance.now() - t0; const cpu = process.cpuUsage(c0);
  const elu = performance.eventLoopUtilization(e0);
  return { mainUsPerOp: (elu.active * 1000 / n).toFixed(1), opsPerSec: Math.round(n / ms * 1000), cpuUsPerOp: ((cpu.user + cpu.system) / n).toFixed(1), found };
}
await run(50000); // warm
const r = await run(reads);
console.log(mode0, conc, JSON.stringify(r), 'workerStarted', rw?.started, 'remote', remote, 'fellBack', fellBack, JSON.stringify(db.engine.blockCache?.stats?.() ?? ''));
await db.close();
