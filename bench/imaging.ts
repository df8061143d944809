import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLogger } from '../src/kit/log.ts';
import { CAST_SEED, ehrDataFor } from '../src/node/ehr-sim/cast-data.ts';
import { type CastStudy, castImagingStudies, dicomUid } from '../src/node/ehr-sim/imaging.ts';
import { imagingUnavailable } from '../src/sandbox/archives/cast-archives.ts';
import { ORGANIZATIONS, VENDORS } from '../src/sandbox/cast.ts';
import { clinicianVerklaring } from '../src/sandbox/clinician-login.ts';
import { startSandbox } from '../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../src/trust/auth/token-provider.ts';
import { argValue, figure } from './lib/report.ts';

// `npm run bench -- imaging [--rounds 3] [--requests 40] [--concurrency 4]`: the sandbox with
// its Orthanc archives plus a 50-image CT series for De Groot at Veluwe. Figures, each against
// the same request straight to Orthanc (HTTP, basic auth) in the same run, rounds interleaved:
//  - first rendered frame: a fresh token, so the gate decides, audits and then renders (ms);
//  - rendered-frame throughput through the node's WADO-RS gate vs straight from Orthanc (target ≥ 0.7);
//  - WADO-RS frame throughput over the 50-frame series (raw frames, application/octet-stream).

const VELUWE = '90000101';
const BAKKER = '900001011';
const SERIES_IMAGES = 50;

function benchSeries(reference: string): CastStudy {
  const [ct] = castImagingStudies(VELUWE, CAST_SEED, reference);
  return {
    ...ct,
    studyUid: dicomUid('bench', 'study'),
    seriesUid: dicomUid('bench', 'series'),
    accession: 'BENCH50',
    description: 'CT hersenen (benchmark, 50 beelden)',
    images: SERIES_IMAGES,
  };
}

async function pool(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return (n / (performance.now() - started)) * 1000;
}

export async function run(args: string[]): Promise<void> {
  const why = imagingUnavailable();
  if (why) {
    process.stderr.write(`!! imaging benchmark skipped: ${why}\n`);
    return;
  }
  const rounds = argValue(args, '--rounds', 3);
  const requests = argValue(args, '--requests', 40);
  const concurrency = argValue(args, '--concurrency', 4);
  const reference = `${new Date().toISOString().slice(0, 10)}T09:00:00Z`;
  const series = benchSeries(reference);
  const dir = mkdtempSync(join(tmpdir(), 'ldn-bench-imaging-'));
  const sandbox = await startSandbox({
    manifestPath: join(dir, 'sandbox.json'),
    portBase: 0,
    log: createLogger('sandbox', { level: 'silent' }),
    cast: {
      organizations: ORGANIZATIONS,
      vendors: VENDORS,
      ehrData: (ura, ref) => ehrDataFor(ura, { reference: ref }),
      imaging: (ura, ref) => [...castImagingStudies(ura, CAST_SEED, ref), ...(ura === VELUWE ? [series] : [])],
    },
  });
  const identity = sandbox.identities.participants.get(VELUWE)!;
  const nodeUrl = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
  const archive = sandbox.archives.running.get(VELUWE)!;
  const direct = new Agent({ connections: concurrency });
  const viaNode = new Agent({ connect: { cert: identity.cert, key: identity.key, ca: identity.ca }, connections: concurrency });
  const basic = `Basic ${Buffer.from(`${archive.connection.username}:${archive.connection.password}`).toString('base64')}`;
  try {
    const verklaring = await clinicianVerklaring(sandbox, BAKKER);
    const newToken = async () => {
      const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(nodeUrl).origin}/oauth/token` });
      const t = await tokens.token(nodeUrl, 'beeldbeschikbaarheid', { userAssertion: verklaring });
      await tokens.close?.();
      return t;
    };
    const instances = await (async () => {
      const r = await request(`${archive.connection.dicomWebUrl}/studies/${series.studyUid}/series/${series.seriesUid}/instances`, {
        dispatcher: direct,
        headers: { authorization: basic, accept: 'application/dicom+json' },
      });
      const list = (await r.body.json()) as Array<Record<string, { Value?: string[] }>>;
      return list.map((x) => x['00080018']?.Value?.[0] as string);
    })();
    if (instances.length !== SERIES_IMAGES) throw new Error(`expected ${SERIES_IMAGES} instances, the archive holds ${instances.length}`);
    const frame = (i: number) => `/studies/${series.studyUid}/series/${series.seriesUid}/instances/${instances[i % instances.length]}/frames/1`;
    const get = async (agent: Agent, url: string, headers: Record<string, string>) => {
      const r = await request(url, { dispatcher: agent, headers });
      const body = await r.body.arrayBuffer();
      if (r.statusCode !== 200 || body.byteLength === 0) throw new Error(`${url} → ${r.statusCode}`);
    };
    const node = (path: string, token: string, accept: string) => get(viaNode, `${nodeUrl}/dicomweb${path}`, { authorization: `Bearer ${token}`, accept });
    const orthanc = (path: string, accept: string) => get(direct, `${archive.connection.dicomWebUrl}${path}`, { authorization: basic, accept });
    const png = 'image/png';
    const raw = 'multipart/related; type="application/octet-stream"';

    // Warm-up, then interleaved rounds.
    const warm = await newToken();
    await node(`${frame(0)}/rendered`, warm, png);
    await orthanc(`${frame(0)}/rendered`, png);
    const firstNode: number[] = [];
    const firstDirect: number[] = [];
    const renderedRatio: number[] = [];
    const framesRatio: number[] = [];
    const nodeRendered: number[] = [];
    const nodeFrames: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const token = await newToken(); // a token the gate has not decided for yet
      let t = performance.now();
      await orthanc(`${frame(round + 1)}/rendered`, png);
      firstDirect.push(performance.now() - t);
      t = performance.now();
      await node(`${frame(round + 1)}/rendered`, token, png);
      firstNode.push(performance.now() - t);

      const ceilingRendered = await pool(requests, concurrency, (i) => orthanc(`${frame(i)}/rendered`, png));
      const oursRendered = await pool(requests, concurrency, (i) => node(`${frame(i)}/rendered`, token, png));
      renderedRatio.push(oursRendered / ceilingRendered);
      nodeRendered.push(oursRendered);
      const ceilingFrames = await pool(SERIES_IMAGES, concurrency, (i) => orthanc(frame(i), raw));
      const oursFrames = await pool(SERIES_IMAGES, concurrency, (i) => node(frame(i), token, raw));
      framesRatio.push(oursFrames / ceilingFrames);
      nodeFrames.push(oursFrames);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    figure('imaging', 'first_rendered_frame_ms', median(firstNode), { unit: 'ms', straight_from_orthanc_ms: Number(median(firstDirect).toFixed(1)), note: 'fresh token: decision + audit + render' });
    figure('imaging', 'rendered_frames_per_s', median(nodeRendered), { unit: 'frames/s', concurrency });
    figure('imaging', 'rendered_throughput_ratio', median(renderedRatio), { ceiling: 'the same rendered frames straight from Orthanc', target: 0.7, rounds, rounds_values: renderedRatio.map((x) => Number(x.toFixed(3))) });
    figure('imaging', 'series_50_frames_per_s', median(nodeFrames), { unit: 'frames/s', concurrency, frames: SERIES_IMAGES });
    figure('imaging', 'series_50_throughput_ratio', median(framesRatio), { ceiling: 'the same WADO-RS frames straight from Orthanc', rounds, rounds_values: framesRatio.map((x) => Number(x.toFixed(3))) });
  } finally {
    await direct.close();
    await viaNode.close();
    await sandbox.stop();
  }
}
