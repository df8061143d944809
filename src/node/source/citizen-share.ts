import type { Observation } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import { operatorUraOf } from '../../kit/common-settings.ts';
import { checkMeasurement } from '../../kit/fhir/patient-reported.ts';
import { forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import type { PartContext } from '../../kit/part.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { auditMissingCounter } from '../metrics.ts';
import { CITIZEN_EXCHANGE } from './citizen-api.ts';
import { citizenTokenVerifier } from './citizen-tokens.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { logStoredWrite } from './access-log.ts';

// A measurement a citizen shares from her app with this organisation (notified push):
//   POST /org/<URA>/citizen/Observation
// from the operator's portal only, with the portal's delegation token for an app she allowed to
// share. The organisation must know her (a record with her BSN); the EHR stores the measurement
// on that record, tagged patient-reported, and the access is audited in the app's name.

export interface CitizenShareOptions {
  ctx: PartContext;
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  connectors: Map<string, EhrConnector>;
}

export async function registerCitizenShare(app: FastifyInstance, o: CitizenShareOptions): Promise<void> {
  const operatorUra = operatorUraOf(o.ctx.settings);
  const citizenOf = citizenTokenVerifier(app, o.ctx);

  app.post<{ Params: { ura: string } }>('/org/:ura/citizen/Observation', async (request, reply) => {
    const tenant = o.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    if (request.peer?.ura !== operatorUra) throw forbidden("only the network operator's citizen portal may deliver a citizen's measurement");
    const citizen = await citizenOf(request);
    if (!citizen.app?.share) throw forbidden('the citizen did not allow this app to share measurements');
    const measurement = checkMeasurement(request.body);
    const connector = o.connectors.get(tenant.ura)!;
    const patients = await connector.patientsByBsn(citizen.bsn).catch((err: Error) => {
      throw new HttpError(502, 'transient', `the EHR could not be asked: ${err.message}`);
    });
    if (patients.length === 0) throw notFound(`${tenant.name} has no record of this citizen`);
    const subject = `Patient/${patients[0].id}`;
    const observation: Observation = { ...measurement, subject: { reference: subject }, performer: [{ reference: subject, display: `via app ${citizen.app.name}` }] };
    let stored: Observation | undefined;
    try {
      stored = await connector.create(observation);
    } catch (err) {
      throw new HttpError(502, 'transient', `the EHR did not store the measurement: ${(err as Error).message}`);
    } finally {
      // The measurement is stored (or not) by now: a missing audit event is an alarm, it does not undo it.
      await logStoredWrite(
        o.env,
        buildAuditEvent({
          who: { organizationUra: tenant.ura, clientId: citizen.clientId, otherPartyUra: operatorUra, professionalName: citizen.app.name },
          what: { exchange: CITIZEN_EXCHANGE, dataCategories: ['ObservationVitalSigns'], interaction: 'create', query: 'Observation', side: 'holder' },
          patient: { localReference: localPatientReference(subject, 'request', request.trace.traceId) },
          why: { purposeOfUse: 'PATRQT' },
          outcome: stored ? 'success' : 'serious-failure',
          outcomeDescription: stored ? undefined : 'the EHR did not store the measurement',
          traceparent: formatTraceparent(request.trace),
        }),
        { bsn: citizen.bsn },
        request.log,
        auditMissingCounter(o.ctx.metrics),
      );
    }
    return reply.code(201).type('application/fhir+json').send(stored);
  });
}
