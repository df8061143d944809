import { KitError } from '../errors.ts';

// FHIR content negotiation as the parts can honour it: JSON only. A client that asks for XML
// (by _format or Accept) gets 406 instead of JSON it did not ask for (FHIR R4 http.html#mime-type).

const XML = /(^|[/+])xml$/i;

function isXml(mediaOrFormat: string): boolean {
  const v = mediaOrFormat.split(';')[0].trim().toLowerCase();
  return v === 'xml' || XML.test(v);
}

/** The media types of an Accept header, without parameters and zero-quality entries. */
function acceptedTypes(accept: string): string[] {
  return accept
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/;\s*q=0(\.0*)?\s*($|;)/i.test(part))
    .map((part) => part.split(';')[0].trim().toLowerCase());
}

/** 406 when the request asks only for a format this JSON-only server cannot give. */
export function refuseUnservableFormat(query: Record<string, unknown>, accept: string | undefined): void {
  const format = query._format;
  const formats = Array.isArray(format) ? format : format === undefined ? [] : [format];
  for (const f of formats) {
    if (typeof f === 'string' && isXml(f)) throw new KitError('ERR_KIT_FORMAT_NOT_SERVED', `_format ${f} is not served; this server answers in application/fhir+json only`);
  }
  if (!accept) return;
  const types = acceptedTypes(accept);
  // Only an Accept that names XML and nothing this server can give is refused; browsers
  // (text/html, */*) and JSON clients pass.
  if (types.length > 0 && types.some(isXml) && types.every(isXml)) {
    throw new KitError('ERR_KIT_FORMAT_NOT_SERVED', `Accept ${accept} is not served; this server answers in application/fhir+json only`);
  }
}
