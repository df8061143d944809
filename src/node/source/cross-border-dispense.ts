import type { MedicationDispense, MedicationRequest } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import { type AccessTokenClaims, userOf } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { logStoredWrite } from './access-log.ts';

// eDispensation back home: what a pharmacy abroad dispensed against this organisation's
// prescription, delivered by the national contact point (a participant of type NCP, with a token
// of this node naming the foreign pharmacist) and stored in the prescriber's EHR beside the
// prescription, so the next overview shows it. The prescription must be this patient's, here.
//   POST /org/<URA>/cross-border/MedicationDispense  {bsn, prescription: <MedicationRequest id>, dispense}

export const CROSS_BORDER_DISPENSE_EXCHANGE = 'medicatieoverdracht';
const CONTACT_POINT_TYPE = 'NCP';

export interface CrossBorderDispenseOptions {
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  connectors: Map<string, EhrConnector>;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  /** Counts dispensations stored without their audit event (metrics.ts auditMissingCounter). */
  auditMissing?: Counter;
}

export async function registerCrossBorderDispense(app: FastifyInstance, o: CrossBorderDispenseOptions): Promise<void> {
  app.post<{ Params: { ura: string }; Body: { bsn?: unknown; prescription?: unknown; dispense?: unknown } }>('/org/:ura/cross-border/MedicationDispense', async (request, reply) => {
    const tenant = o.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    const caller = request.peer?.ura ? await o.env.participant(request.peer.ura) : null;
    if (caller?.status !== 'admitted' || caller.type !== CONTACT_POINT_TYPE) throw forbidden('only the national contact point may deliver a dispensation from abroad');
    const claims = await o.verifyToken(request, tenant);
    const user = userOf(claims);
    if (!user || !claims.scope.split(' ').includes(CROSS_BORDER_DISPENSE_EXCHANGE)) throw forbidden(`a token with the ${CROSS_BORDER_DISPENSE_EXCHANGE} scope naming the pharmacist is required`);
    const { bsn, prescription, dispense } = request.body ?? {};
    if (typeof bsn !== 'string' || !isValidBsn(bsn)) throw badRequest('bsn must be a valid BSN');
    if (typeof prescription !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(prescription)) throw badRequest('prescription must be the id of a MedicationRequest');
    const d = (dispense ?? {}) as { quantity?: { value?: unknown; unit?: unknown }; whenHandedOver?: unknown; performer?: unknown };
    if (typeof d.whenHandedOver !== 'string' || Number.isNaN(Date.parse(d.whenHandedOver))) throw badRequest('dispense.whenHandedOver must be a date-time');
    if (typeof d.quantity?.value !== 'number' || !(d.quantity.value > 0) || d.quantity.value > 10_000) throw badRequest('dispense.quantity.value must be a positive number');
    const unit = typeof d.quantity.unit === 'string' ? d.quantity.unit.slice(0, 40) : undefined;
    const connector = o.connectors.get(tenant.ura)!;
    const patients = await connector.patientsByBsn(bsn).catch((err: Error) => {
      throw new HttpError(502, 'transient', `the EHR could not be asked: ${err.message}`);
    });
    const subject = patients[0] ? `Patient/${patients[0].id}` : undefined;
    const order = subject ? await connector.read<MedicationRequest>('MedicationRequest', prescription).catch(() => undefined) : undefined;
    if (!subject || !order || order.subject?.reference !== subject) throw notFound('no such prescription of this patient here');
    const record: MedicationDispense = {
      resourceType: 'MedicationDispense',
      status: 'completed',
      subject: { reference: subject },
      authorizingPrescription: [{ reference: `MedicationRequest/${prescription}` }],
      ...(order.medicationCodeableConcept ? { medicationCodeableConcept: order.medicationCodeableConcept } : {}),
      ...(order.medicationReference ? { medicationReference: order.medicationReference } : {}),
      quantity: { value: d.quantity.value, ...(unit ? { unit } : {}) },
      whenHandedOver: new Date(d.whenHandedOver).toISOString(),
      // Who dispensed: the country and pharmacy the contact point vouched for (no person's name).
      performer: [{ actor: { display: user.name } }],
      note: [{ text: 'Verstrekt in het buitenland (eDispensation via NCPeH)' }],
      meta: { tag: [{ system: 'https://ldn.example.nl/fhir/CodeSystem/cross-border', code: 'edispensation' }] },
      ...(order.extension ? { extension: order.extension.filter((e) => /treatment|behandel/i.test(e.url)) } : {}),
    };
    let stored: MedicationDispense | undefined;
    try {
      stored = await connector.create(record);
    } catch (err) {
      throw new HttpError(502, 'transient', `the EHR did not store the dispensation: ${(err as Error).message}`);
    } finally {
      // The dispensation is stored (or not) by now: a missing audit event is an alarm, it does not undo it.
      await logStoredWrite(
        o.env,
        buildAuditEvent({
          who: { organizationUra: tenant.ura, clientId: claims.client_id, otherPartyUra: caller.ura, professionalNumber: user.deziNumber, professionalName: user.name, roleCode: user.roleCode },
          what: { exchange: CROSS_BORDER_DISPENSE_EXCHANGE, dataCategories: ['MedicationDispense'], interaction: 'create', query: 'MedicationDispense', side: 'holder' },
          patient: { localReference: localPatientReference(subject, 'request', request.trace.traceId) },
          why: { purposeOfUse: 'TREAT' },
          outcome: stored ? 'success' : 'serious-failure',
          outcomeDescription: stored ? undefined : 'the EHR did not store the dispensation',
          traceparent: formatTraceparent(request.trace),
        }),
        { bsn },
        request.log,
        o.auditMissing,
      );
    }
    return reply.code(201).type('application/fhir+json').send(stored);
  });
}
