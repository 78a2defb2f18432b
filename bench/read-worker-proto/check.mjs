const [dist, dir] = process.argv.slice(2);
const { DB } = await import(`${dist}/src/index.js`);
const db = await DB.open(dir, { cacheSize: 1 << 20 });
const rw = db.engine.readWorker;
const keyOf = (i) => Buffer.from(String(i).padStart(16, '0'));
let seed = 7; const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
const ks = Array.from({ length: 20000 }, () => keyOf(rnd() % 1100000));
rw.minBurst = Infinity; const want = []; for (const k of ks) want.push(await db.get(k));
rw.minBurst = 2; let reads = rw.reads;
const got = await Promise.all(ks.map((k) => db.get(k)));
const many = await db.getMany(ks.slice(0, 5000));
let bad = 0; ks.forEach((k, i) => { if (String(got[i]) !== String(want[i])) bad++; if (i < 5000 && String(many[i]) !== String(want[i])) bad++; });
console.log('mismatches', bad, 'found', want.filter(Boolean).length, 'remote reads', rw.reads - reads);
// close with reads in flight: they finish on the main thread
const inflight = Promise.all(ks.slice(0, 2000).map((k) => db.get(k)));
const closing = db.close();
const late = await inflight.catch((e) => e);
console.log('close in flight:', Array.isArray(late) ? `ok ${late.filter((v, i) => String(v) === String(want[i])).length}/2000 right` : `error ${late.code ?? late.message}`);
await closing;
