import type { Bundle } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClinicianIdentity } from '../ports.ts';
import { type Html, href, html } from '../ui/html.ts';
import { formatDate, type Lang } from '../ui/i18n.ts';
import { PageError } from '../ui/web.ts';
import { type ImagingLine, imagingLines } from './imaging-model.ts';
import type { SectionNote } from './overview-model.ts';
import { sectionNotes } from './pages.ts';
import { type LabTrend, labTrends, plotGeometry } from './lab-trends.ts';

// Sections of the overview page beyond the clinical groups: the patient's images (with a
// rendered preview fetched through the requester's node from the holder's WADO-RS gate) and lab
// trends with a small plot. Kept apart from pages.ts so the viewer's other pages stay as they are.

const WORDS = {
  nl: {
    images: 'Beelden',
    noImages: 'Geen beelden gevonden bij de bronnen die antwoordden.',
    imagesRefused: 'Niet alle beelden konden worden opgehaald; zie de melding hierboven.',
    modality: 'Modaliteit',
    bodyPart: 'Lichaamsdeel',
    study: 'Onderzoek',
    report: 'Verslag',
    preview: 'Voorbeeld',
    open: 'Toon voorbeeld',
    trends: 'Labwaarden in de tijd',
    last: 'Laatste',
    range: 'Referentie',
  },
  en: {
    images: 'Images',
    noImages: 'No images found at the sources that answered.',
    imagesRefused: 'Not every image could be fetched; see the notice above.',
    modality: 'Modality',
    bodyPart: 'Body part',
    study: 'Study',
    report: 'Report',
    preview: 'Preview',
    open: 'Show preview',
    trends: 'Lab results over time',
    last: 'Latest',
    range: 'Reference',
  },
} as const;

export interface ExtraSectionsInput {
  lang: Lang;
  basePath: string;
  exchange: string;
  /** Whether the exchange covers images at all (the section is shown only then). */
  coversImages: boolean;
  /** Whether a holder refused or failed (the imaging section then says it may be incomplete). */
  incomplete: boolean;
  /** Why images are withheld or missing, per reason (the patient's choice, policy, failure). */
  notes?: SectionNote[];
}

function imagingSection(lines: ImagingLine[], i: ExtraSectionsInput): Html {
  const w = WORDS[i.lang];
  const rows = lines.map((l) => {
    const preview = l.previewable
      ? html`<details class="image-preview"><summary>${w.open}</summary><img loading="lazy" width="256" alt="${w.preview}: ${l.description} (${l.source})" src="${href(`${i.basePath}/imaging/preview`, { holder: l.sourceUra, study: l.studyUid, series: l.seriesUid, exchange: i.exchange })}"></details>`
      : '';
    return html`<tr data-study="${l.studyUid}"><td>${l.description}</td><td>${l.modality}</td><td>${l.bodyPart}</td><td>${l.date ? html`<time datetime="${l.date}">${formatDate(l.date.slice(0, 10), i.lang)}</time>` : ''}</td><td>${l.source}</td><td>${l.report ?? ''}</td><td>${preview}</td></tr>`;
  });
  return html`<section aria-labelledby="g-images" class="imaging">
<h2 id="g-images">${w.images}</h2>
${sectionNotes(i.notes ?? [], i.lang)}
${i.incomplete ? html`<p class="muted">${w.imagesRefused}</p>` : ''}
${
  lines.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="${w.study}"><table><thead><tr><th scope="col">${w.study}</th><th scope="col">${w.modality}</th><th scope="col">${w.bodyPart}</th><th scope="col">Datum</th><th scope="col">Bron</th><th scope="col">${w.report}</th><th scope="col">${w.preview}</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : i.notes?.length
      ? ''
      : html`<p class="muted">${w.noImages}</p>`
}
</section>`;
}

function sparkline(t: LabTrend): Html {
  const g = plotGeometry(t);
  const band = g.band ? html`<rect x="0" y="${g.band[0]}" width="160" height="${Math.max(1, g.band[1] - g.band[0])}" fill="#dfeedd"></rect>` : '';
  const path = g.points.map(([x, y]) => `${x},${y}`).join(' ');
  const dots = g.points.map(([x, y]) => html`<circle cx="${x}" cy="${y}" r="2.5" fill="#154273"></circle>`);
  return html`<svg class="trend" role="img" aria-label="${t.label}" width="160" height="40" viewBox="0 0 160 40">${band}<polyline points="${path}" fill="none" stroke="#154273" stroke-width="1.5"></polyline>${dots}</svg>`;
}

function trendsSection(trends: LabTrend[], i: ExtraSectionsInput): Html {
  const w = WORDS[i.lang];
  const rows = trends.map((t) => {
    const last = t.points[t.points.length - 1];
    const range = t.low !== undefined || t.high !== undefined ? `${t.low ?? ''}–${t.high ?? ''} ${t.unit}` : '';
    return html`<tr data-test="${t.key}"><td>${t.label}</td><td>${t.points.length > 1 ? sparkline(t) : ''}</td><td>${last.value} ${t.unit}${last.interpretation && last.interpretation !== 'N' ? html` <strong>(${last.interpretation})</strong>` : ''}</td><td>${range}</td><td>${t.points.map((p) => `${p.date.slice(0, 10)}: ${p.value}`).join(' · ')}</td></tr>`;
  });
  return html`<section aria-labelledby="g-trends"><h2 id="g-trends">${w.trends}</h2><div class="table-wrap" tabindex="0" role="region" aria-labelledby="g-trends"><table><thead><tr><th scope="col">Test</th><th scope="col">Trend</th><th scope="col">${w.last}</th><th scope="col">${w.range}</th><th scope="col">Waarden</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

export function extraSections(bundle: Bundle, input: ExtraSectionsInput): Html {
  const trends = labTrends(bundle);
  return html`${input.coversImages ? imagingSection(imagingLines(bundle), input) : ''}${trends.length ? trendsSection(trends, input) : ''}`;
}

/** Fetches a rendered frame of a study through the clinician's node (the node's imaging preview port). */
export type ImagePreviewPort = (input: {
  session: ClinicianIdentity;
  holderUra: string;
  exchange: string;
  study: string;
  series?: string;
  trace?: import('../../kit/trace.ts').TraceContext;
}) => Promise<{ contentType: string; body: Buffer }>;

/** GET <base>/imaging/preview?holder&study&series&exchange: the image, for a logged-in clinician only. */
export function registerImagePreviewRoute(
  app: FastifyInstance,
  base: string,
  requireClinician: (request: FastifyRequest) => Promise<{ identity: ClinicianIdentity }>,
  preview: ImagePreviewPort,
): void {
  app.get<{ Querystring: Record<string, string | undefined> }>(`${base}/imaging/preview`, async (request, reply) => {
    const who = await requireClinician(request);
    const { holder = '', study = '', series, exchange = '' } = request.query;
    const uid = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
    if (!/^\d{8}$/.test(holder) || !uid.test(study) || study.length > 64 || (series !== undefined && (!uid.test(series) || series.length > 64)) || !/^[a-z-]{1,40}$/.test(exchange)) {
      throw new PageError(400, 'common.badRequest');
    }
    const image = await preview({ session: who.identity, holderUra: holder, exchange, study, series, trace: request.trace });
    return reply.type(image.contentType).header('cache-control', 'private, no-store').send(image.body);
  });
}
