// Runs autocannon in its own process so the load generator does not share the server's event loop.
import autocannon from 'autocannon';

const { url, connections, duration, cert, key, ca } = JSON.parse(process.argv[2]);
const result = await autocannon({
  url,
  connections,
  duration,
  pipelining: 1,
  tlsOptions: { cert, key, ca },
});
process.stdout.write(JSON.stringify({ rps: result.requests.average, non2xx: result.non2xx, errors: result.errors, p99: result.latency.p99 }));
