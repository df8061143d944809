#!/usr/bin/env node
// Entry point of the `ldn` CLI. The sources are TypeScript run through tsx's loader,
// so there is no build step between a clone and `npm start`.
import { register } from 'tsx/esm/api';

register();
// The bootstrap commands load only what they use (src/cli/bootstrap-main.ts).
const BOOTSTRAP = ['pki', 'admin', 'publish-directory'];
await import(BOOTSTRAP.includes(process.argv[2]) ? '../src/cli/bootstrap-main.ts' : '../src/cli/main.ts');
