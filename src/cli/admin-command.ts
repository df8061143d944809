import { readFileSync, writeFileSync } from 'node:fs';
import { output } from './output.ts';
import { Command, InvalidArgumentError } from 'commander';
import type { PartClient } from '../kit/http/client.ts';
import { type ConnectionOptions, connection, withClient, withConnectionOptions } from './operator-client.ts';

// `ldn admin`: the network operator's register work over the trust part's operator API (mutual
// TLS with the operator certificate), never its database: admit a participant with its type and
// qualifications, register vendors, suspend, reinstate or revoke, issue and revoke certificates,
// switch the network's consent mode. Each prints the trust part's answer as JSON.

const collect = (v: string, all: string[] = []) => [...all, v];

function eightDigits(label: string) {
  return (v: string) => {
    if (!/^\d{8}$/.test(v)) throw new InvalidArgumentError(`${label} has 8 digits`);
    return v;
  };
}

type Run = (client: PartClient, trustUrl: string) => Promise<unknown>;

async function operate(o: ConnectionOptions, run: Run): Promise<void> {
  const { trustUrl, tls } = connection(o);
  const result = await withClient(tls, (client) => run(client, trustUrl));
  if (result !== undefined) output.write(`${JSON.stringify(result, null, 2)}\n`);
}

const post = (client: PartClient, url: string, body: unknown) => client.json(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

function sub(admin: Command, name: string, description: string): Command {
  const cmd = withConnectionOptions(new Command(name).description(description), 'the operator\'s');
  admin.addCommand(cmd);
  return cmd;
}

export function adminCommand(): Command {
  const admin = new Command('admin').description('operator actions over the trust part\'s operator API (admit, qualify, vendors, suspend, revoke, certificates)');

  sub(admin, 'admit', 'register a care provider and admit it, with its qualifications (exchanges it may request); re-running is harmless')
    .requiredOption('--ura <ura>', 'URA', eightDigits('a URA'))
    .requiredOption('--name <name>', 'organisation name')
    .requiredOption('--type <code>', 'organisation type code (e.g. V4 hospital, Z3 GP practice, J8 pharmacy)')
    .option('--agb <agb>', 'AGB code')
    .option('--city <city>', 'city of its address')
    .option('--qualification <code>', 'an exchange or generic function it is qualified for (repeatable)', collect)
    .action((o: ConnectionOptions & { ura: string; name: string; type: string; agb?: string; city?: string; qualification?: string[] }) =>
      operate(o, async (client, trust) => {
        let p = await post(client, `${trust}/participants`, {
          ura: o.ura, name: o.name, organizationType: o.type, agb: o.agb, ...(o.city ? { address: { city: o.city, country: 'NL' } } : {}),
        }) as { status: string };
        if (p.status === 'applied') p = (await post(client, `${trust}/participants/${o.ura}/status`, { status: 'admitted', reason: 'admitted by ldn admin' })) as { status: string };
        else if (p.status !== 'admitted') throw new Error(`participant ${o.ura} is ${p.status}; use ldn admin reinstate (suspended) — a revoked participant is not admitted again`);
        for (const q of o.qualification ?? []) p = (await post(client, `${trust}/participants/${o.ura}/qualifications`, { qualification: q })) as { status: string };
        return p;
      }),
    );

  sub(admin, 'qualify', 'qualify a participant for an exchange or generic function')
    .requiredOption('--ura <ura>', 'URA', eightDigits('a URA'))
    .requiredOption('--qualification <code>', 'the code (as the agreements name it)')
    .option('--valid-from <iso>', 'start (default now)')
    .option('--valid-until <iso>', 'end (default open)')
    .action((o: ConnectionOptions & { ura: string; qualification: string; validFrom?: string; validUntil?: string }) =>
      operate(o, (client, trust) => post(client, `${trust}/participants/${o.ura}/qualifications`, { qualification: o.qualification, validFrom: o.validFrom, validUntil: o.validUntil })),
    );

  sub(admin, 'withdraw', 'withdraw a qualification')
    .requiredOption('--ura <ura>', 'URA', eightDigits('a URA'))
    .requiredOption('--qualification <code>', 'the code')
    .action((o: ConnectionOptions & { ura: string; qualification: string }) =>
      operate(o, (client, trust) => post(client, `${trust}/participants/${o.ura}/qualifications/${encodeURIComponent(o.qualification)}/withdraw`, {})),
    );

  sub(admin, 'vendor', 'register and admit a vendor (a KvK number) and the care providers it hosts')
    .requiredOption('--kvk <kvk>', 'KvK number', eightDigits('a KvK number'))
    .requiredOption('--name <name>', 'vendor name')
    .option('--host <ura>', 'URA of a care provider it hosts (repeatable)', collect)
    .action((o: ConnectionOptions & { kvk: string; name: string; host?: string[] }) =>
      operate(o, async (client, trust) => {
        const v = (await post(client, `${trust}/vendors`, { kvk: o.kvk, name: o.name, hosts: o.host ?? [] })) as { status: string };
        return v.status === 'applied' ? post(client, `${trust}/vendors/${o.kvk}/status`, { status: 'admitted', reason: 'admitted by ldn admin' }) : v;
      }),
    );

  for (const [name, status, what] of [
    ['suspend', 'suspended', 'suspend a participant: every part refuses it until reinstated'],
    ['reinstate', 'admitted', 'reinstate a suspended participant'],
    ['revoke', 'revoked', 'revoke a participant for good (its certificates are revoked with it)'],
  ] as const) {
    sub(admin, name, what)
      .option('--ura <ura>', 'URA of a participant', eightDigits('a URA'))
      .option('--kvk <kvk>', 'KvK number of a vendor, instead', eightDigits('a KvK number'))
      .requiredOption('--reason <text>', 'why (kept in the status history)')
      .action((o: ConnectionOptions & { ura?: string; kvk?: string; reason: string }) =>
        operate(o, (client, trust) => {
          if (!!o.ura === !!o.kvk) throw new Error('name exactly one: --ura or --kvk');
          const path = o.ura ? `participants/${o.ura}` : `vendors/${o.kvk}`;
          return post(client, `${trust}/${path}/status`, { status, reason: o.reason });
        }),
      );
  }

  sub(admin, 'certificate', 'have the network CA at the trust part sign a participant\'s or vendor\'s CSR (recorded for the status list)')
    .requiredOption('--csr <file>', 'the PKCS#10 request (from ldn pki request)')
    .requiredOption('--out <file>', 'where to write the certificate')
    .option('--ura <ura>', 'holder URA', eightDigits('a URA'))
    .option('--kvk <kvk>', 'holder KvK number (vendor), instead', eightDigits('a KvK number'))
    .option('--system-number <n>', 'UZI system number')
    .option('--dns <name>', 'DNS name it serves (repeatable)', collect)
    .option('--ip <address>', 'IP address it serves (repeatable)', collect)
    .action((o: ConnectionOptions & { csr: string; out: string; ura?: string; kvk?: string; systemNumber?: string; dns?: string[]; ip?: string[] }) =>
      operate(o, async (client, trust) => {
        if (!!o.ura === !!o.kvk) throw new Error('name exactly one holder: --ura or --kvk');
        const r = (await post(client, `${trust}/certificates`, {
          csr: readFileSync(o.csr, 'utf8'), ura: o.ura, kvk: o.kvk, systemNumber: o.systemNumber, dnsNames: o.dns, ipAddresses: o.ip,
        })) as { serial: string; certificate: string; notAfter: string };
        writeFileSync(o.out, r.certificate);
        return { serial: r.serial, notAfter: r.notAfter, file: o.out };
      }),
    );

  sub(admin, 'revoke-certificate', 'revoke one certificate by serial number')
    .requiredOption('--serial <hex>', 'serial number')
    .requiredOption('--reason <text>', 'why')
    .action((o: ConnectionOptions & { serial: string; reason: string }) =>
      operate(o, (client, trust) => post(client, `${trust}/certificates/${encodeURIComponent(o.serial)}/revoke`, { reason: o.reason })),
    );

  sub(admin, 'consent-mode', 'switch the network between opt-in and opt-out (a new signed agreements version)')
    .argument('<mode>', 'opt-in or opt-out')
    .action((mode: string, o: ConnectionOptions) =>
      operate(o, (client, trust) => {
        if (mode !== 'opt-in' && mode !== 'opt-out') throw new Error('mode must be opt-in or opt-out');
        return post(client, `${trust}/agreements/network`, { consentMode: mode });
      }),
    );

  sub(admin, 'show', 'show a participant as the register holds it')
    .requiredOption('--ura <ura>', 'URA', eightDigits('a URA'))
    .action((o: ConnectionOptions & { ura: string }) => operate(o, (client, trust) => client.json(`${trust}/participants/${o.ura}`)));

  return admin;
}
