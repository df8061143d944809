// Worker-thread entry of the NVI crypto pool. Plain JS because a worker thread does not inherit a
// loader registered through tsx's API (bin/ldn.js): register it here, then load the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./subject-hash-worker.ts');
