#!/usr/bin/env node
// Entry point of the `ldn` CLI. The sources are TypeScript run through tsx's loader,
// so there is no build step between a clone and `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
