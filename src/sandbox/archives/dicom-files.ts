import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CastStudy, dicomUid } from '../../node/ehr-sim/imaging.ts';

// Synthetic but valid DICOM for the sandbox archives (sandbox and benchmarks only): a text
// dump per image turned into a Part 10 file by dcmtk's dump2dcm (Debian package dcmtk), with
// 16-bit pixels drawn here: a head-like ellipse for CT, a body outline with a bright dot for
// the abdominal X-ray. No DICOM encoding is written by hand.

const run = promisify(execFile);

export const DUMP2DCM = process.env.LDN_DUMP2DCM ?? '/usr/bin/dump2dcm';

export function dcmtkAvailable(): boolean {
  return existsSync(DUMP2DCM);
}

const SOP_CLASS = { CT: '1.2.840.10008.5.1.4.1.1.2', DX: '1.2.840.10008.5.1.4.1.1.1.1' } as const;

/** A dump value in brackets, with characters dump2dcm would misread removed. */
function v(text: string): string {
  return `[${text.replace(/[[\]\\\n\r]/g, ' ')}]`;
}

function da(instant: string): string {
  return instant.slice(0, 10).replaceAll('-', '');
}

function tm(instant: string): string {
  return instant.slice(11, 19).replaceAll(':', '');
}

/** DICOM person name: Family^Given^Middle^Prefix (the Dutch voorvoegsel as prefix). */
function personName(p: CastStudy['person']): string {
  return `${p.family}^${p.given}^^${p.prefix ?? ''}`;
}

/** 16-bit little-endian pixels of one image (12 bits stored). */
export function syntheticPixels(study: Pick<CastStudy, 'modality' | 'rows' | 'columns' | 'images'>, index: number): Buffer {
  const { rows, columns } = study;
  const out = Buffer.alloc(rows * columns * 2);
  const cy = rows / 2;
  const cx = columns / 2;
  // CT slices shrink towards the top of the skull; an X-ray is one projection.
  const scale = study.modality === 'CT' ? Math.max(0.35, Math.cos(((index / Math.max(1, study.images - 1)) * Math.PI) / 2.4)) : 1;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const dx = (x - cx) / (columns * 0.42 * scale);
      const dy = (y - cy) / (rows * 0.47 * scale);
      const r = Math.sqrt(dx * dx + dy * dy);
      let value = 0;
      if (study.modality === 'CT') {
        if (r < 0.9) value = 1040 + ((x * 7 + y * 13 + index * 5) % 23); // brain
        else if (r < 1) value = 2000; // skull
      } else {
        value = r < 1 ? 900 + Math.round(300 * (1 - r)) : 150;
        const sx = x - columns * 0.62;
        const sy = y - rows * 0.58;
        if (sx * sx + sy * sy < 9) value = 3000; // the stone
      }
      out.writeUInt16LE(value, (y * columns + x) * 2);
    }
  }
  return out;
}

function dump(study: CastStudy & { institution: string }, index: number, pixelFile: string): string {
  const sop = dicomUid(study.studyUid, 'instance', String(index));
  const lines = [
    '(0002,0010) UI =LittleEndianExplicit',
    `(0008,0016) UI ${v(SOP_CLASS[study.modality])}`,
    `(0008,0018) UI ${v(sop)}`,
    `(0008,0020) DA ${v(da(study.started))}`,
    `(0008,0030) TM ${v(tm(study.started))}`,
    `(0008,0050) SH ${v(study.accession)}`,
    `(0008,0060) CS ${v(study.modality)}`,
    `(0008,0080) LO ${v(study.institution)}`,
    `(0008,1030) LO ${v(study.description)}`,
    `(0010,0010) PN ${v(personName(study.person))}`,
    `(0010,0020) LO ${v(study.patientId)}`,
    `(0010,0030) DA ${v(study.person.birthDate.replaceAll('-', ''))}`,
    `(0010,0040) CS ${v(study.person.gender === 'male' ? 'M' : study.person.gender === 'female' ? 'F' : 'O')}`,
    `(0018,0015) CS ${v(study.bodyPart)}`,
    `(0020,000d) UI ${v(study.studyUid)}`,
    `(0020,000e) UI ${v(study.seriesUid)}`,
    `(0020,0010) SH ${v('1')}`,
    `(0020,0011) IS ${v('1')}`,
    `(0020,0013) IS ${v(String(index + 1))}`,
    '(0028,0002) US 1',
    `(0028,0004) CS ${v('MONOCHROME2')}`,
    `(0028,0010) US ${study.rows}`,
    `(0028,0011) US ${study.columns}`,
    '(0028,0100) US 16',
    '(0028,0101) US 12',
    '(0028,0102) US 11',
    '(0028,0103) US 0',
  ];
  if (study.modality === 'CT') {
    lines.push(
      `(0018,0050) DS ${v('5')}`,
      `(0020,0032) DS [-64\\-64\\${index * 5}]`,
      `(0020,0037) DS [1\\0\\0\\0\\1\\0]`,
      `(0028,0030) DS [1\\1]`,
      `(0028,1050) DS ${v('1040')}`,
      `(0028,1051) DS ${v('160')}`,
      `(0028,1052) DS ${v('-1024')}`,
      `(0028,1053) DS ${v('1')}`,
    );
  } else {
    lines.push(`(0028,1050) DS ${v('1200')}`, `(0028,1051) DS ${v('2400')}`, `(0018,5101) CS ${v('AP')}`);
  }
  lines.push(`(7fe0,0010) OW =${pixelFile}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the study's images as DICOM Part 10 files under `dir`; returns their contents. */
export async function dicomInstances(study: CastStudy & { institution: string }, dir: string): Promise<Buffer[]> {
  await mkdir(dir, { recursive: true });
  const out: Buffer[] = [];
  try {
    for (let i = 0; i < study.images; i++) {
      const raw = join(dir, `img${i}.raw`);
      const txt = join(dir, `img${i}.dump`);
      const dcm = join(dir, `img${i}.dcm`);
      await writeFile(raw, syntheticPixels(study, i));
      await writeFile(txt, dump(study, i, raw));
      await run(DUMP2DCM, ['--quiet', txt, dcm]);
      out.push(await readFile(dcm));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
