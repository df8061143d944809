// Clinical content the synthetic histories are built from: real SNOMED CT, LOINC and ATC codes,
// with Dutch display texts as a Dutch EHR would show them (shaped after the zibs Probleem,
// AllergieIntolerantie, Medicatie, LaboratoriumUitslag, Bloeddruk, Verrichting, Vaccinatie, Alert).
// G-Standaard product codes (GPK/PRK/HPK) are deliberately absent: we cannot verify real ones and
// will not invent codes in a real code system; ATC plus text identifies the drug.

export interface Concept {
  code: string;
  display: string;
  /** What a Dutch EHR shows (CodeableConcept.text); the display stays the code system's own. */
  text?: string;
}

export interface ConditionDef extends Concept {
  /** Dutch problem name (zib Probleem.ProbleemNaam as text). */
  text: string;
  chronic: boolean;
  /** Typical minimum age at onset. */
  minAge: number;
}

export interface DrugDef {
  atc: string;
  /** ATC level-5 name. */
  substance: string;
  /** Product text as a Dutch pharmacy prints it. */
  text: string;
  doseText: string;
  /** Tablets/units per day, for dispense quantities. */
  perDay: number;
  form: Concept;
}

const TABLET: Concept = { code: '385055001', display: 'Tablet' };
const CAPSULE: Concept = { code: '385049006', display: 'Capsule' };
const INHALER: Concept = { code: '420317006', display: 'Inhalation powder' };

export const CONDITIONS = {
  hypertension: { code: '38341003', display: 'Hypertensive disorder, systemic arterial', text: 'Hypertensie', chronic: true, minAge: 30 },
  hypercholesterolaemia: { code: '13644009', display: 'Hypercholesterolemia', text: 'Hypercholesterolemie', chronic: true, minAge: 30 },
  diabetes2: { code: '44054006', display: 'Diabetes mellitus type 2', text: 'Diabetes mellitus type 2', chronic: true, minAge: 35 },
  asthma: { code: '195967001', display: 'Asthma', text: 'Astma', chronic: true, minAge: 5 },
  copd: { code: '13645005', display: 'Chronic obstructive lung disease', text: 'COPD', chronic: true, minAge: 45 },
  atrialFibrillation: { code: '49436004', display: 'Atrial fibrillation', text: 'Atriumfibrilleren', chronic: true, minAge: 55 },
  heartFailure: { code: '84114007', display: 'Heart failure', text: 'Hartfalen', chronic: true, minAge: 60 },
  hypothyroidism: { code: '40930008', display: 'Hypothyroidism', text: 'Hypothyreoïdie', chronic: true, minAge: 25 },
  depression: { code: '35489007', display: 'Depressive disorder', text: 'Depressie', chronic: true, minAge: 18 },
  kneeOsteoarthritis: { code: '239873007', display: 'Osteoarthritis of knee', text: 'Artrose knie', chronic: true, minAge: 50 },
  lowBackPain: { code: '279039007', display: 'Low back pain', text: 'Lage rugpijn', chronic: false, minAge: 20 },
  reflux: { code: '235595009', display: 'Gastroesophageal reflux disease', text: 'Refluxziekte', chronic: true, minAge: 25 },
  ckd: { code: '709044004', display: 'Chronic kidney disease', text: 'Chronische nierschade', chronic: true, minAge: 60 },
  migraine: { code: '37796009', display: 'Migraine', text: 'Migraine', chronic: true, minAge: 15 },
  // Acute episodes, typically seen in a hospital.
  pneumonia: { code: '233604007', display: 'Pneumonia', text: 'Pneumonie', chronic: false, minAge: 0 },
  hipFracture: { code: '5913000', display: 'Fracture of neck of femur', text: 'Collumfractuur', chronic: false, minAge: 65 },
  myocardialInfarction: { code: '22298006', display: 'Myocardial infarction', text: 'Hartinfarct', chronic: false, minAge: 45 },
  appendicitis: { code: '74400008', display: 'Appendicitis', text: 'Appendicitis', chronic: false, minAge: 5 },
  kidneyStone: { code: '95570007', display: 'Kidney stone', text: 'Niersteen', chronic: false, minAge: 20 },
} satisfies Record<string, ConditionDef>;

export type ConditionKey = keyof typeof CONDITIONS;

export const DRUGS = {
  atorvastatin: { atc: 'C10AA05', substance: 'atorvastatin', text: 'ATORVASTATINE TABLET 20MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  simvastatin: { atc: 'C10AA01', substance: 'simvastatin', text: 'SIMVASTATINE TABLET 40MG', doseText: '1 maal per dag 1 tablet, avonds', perDay: 1, form: TABLET },
  lisinopril: { atc: 'C09AA03', substance: 'lisinopril', text: 'LISINOPRIL TABLET 10MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  amlodipine: { atc: 'C08CA01', substance: 'amlodipine', text: 'AMLODIPINE TABLET 5MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  hydrochlorothiazide: { atc: 'C03AA03', substance: 'hydrochlorothiazide', text: 'HYDROCHLOORTHIAZIDE TABLET 12,5MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  metoprolol: { atc: 'C07AB02', substance: 'metoprolol', text: 'METOPROLOLSUCCINAAT TABLET MGA 50MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  metformin: { atc: 'A10BA02', substance: 'metformin', text: 'METFORMINE TABLET 500MG', doseText: '2 maal per dag 1 tablet bij de maaltijd', perDay: 2, form: TABLET },
  gliclazide: { atc: 'A10BB09', substance: 'gliclazide', text: 'GLICLAZIDE TABLET MGA 30MG', doseText: '1 maal per dag 1 tablet bij het ontbijt', perDay: 1, form: TABLET },
  salbutamol: { atc: 'R03AC02', substance: 'salbutamol', text: 'SALBUTAMOL INHALATIEPOEDER 200UG/DO', doseText: 'zo nodig 1 inhalatie, max 8 per dag', perDay: 2, form: INHALER },
  fluticasone: { atc: 'R03BA05', substance: 'fluticasone', text: 'FLUTICASON INHALATIEPOEDER 250UG/DO', doseText: '2 maal per dag 1 inhalatie', perDay: 2, form: INHALER },
  tiotropium: { atc: 'R03BB04', substance: 'tiotropium bromide', text: 'TIOTROPIUM INHALATIEPOEDER 18UG', doseText: '1 maal per dag 1 inhalatie', perDay: 1, form: INHALER },
  apixaban: { atc: 'B01AF02', substance: 'apixaban', text: 'APIXABAN TABLET 5MG', doseText: '2 maal per dag 1 tablet', perDay: 2, form: TABLET },
  furosemide: { atc: 'C03CA01', substance: 'furosemide', text: 'FUROSEMIDE TABLET 40MG', doseText: '1 maal per dag 1 tablet, ochtend', perDay: 1, form: TABLET },
  levothyroxine: { atc: 'H03AA01', substance: 'levothyroxine sodium', text: 'LEVOTHYROXINE TABLET 100UG', doseText: '1 maal per dag 1 tablet nuchter', perDay: 1, form: TABLET },
  sertraline: { atc: 'N06AB06', substance: 'sertraline', text: 'SERTRALINE TABLET 50MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  paracetamol: { atc: 'N02BE01', substance: 'paracetamol', text: 'PARACETAMOL TABLET 500MG', doseText: 'zo nodig 3 maal per dag 2 tabletten', perDay: 6, form: TABLET },
  naproxen: { atc: 'M01AE02', substance: 'naproxen', text: 'NAPROXEN TABLET 250MG', doseText: 'zo nodig 2 maal per dag 1 tablet', perDay: 2, form: TABLET },
  omeprazole: { atc: 'A02BC01', substance: 'omeprazole', text: 'OMEPRAZOL CAPSULE MSR 20MG', doseText: '1 maal per dag 1 capsule', perDay: 1, form: CAPSULE },
  sumatriptan: { atc: 'N02CC01', substance: 'sumatriptan', text: 'SUMATRIPTAN TABLET 50MG', doseText: 'zo nodig 1 tablet bij migraineaanval', perDay: 1, form: TABLET },
  acetylsalicylicAcid: { atc: 'B01AC06', substance: 'acetylsalicylic acid', text: 'ACETYLSALICYLZUUR TABLET 80MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  clopidogrel: { atc: 'B01AC04', substance: 'clopidogrel', text: 'CLOPIDOGREL TABLET 75MG', doseText: '1 maal per dag 1 tablet', perDay: 1, form: TABLET },
  amoxicillin: { atc: 'J01CA04', substance: 'amoxicillin', text: 'AMOXICILLINE CAPSULE 500MG', doseText: '3 maal per dag 1 capsule, 7 dagen', perDay: 3, form: CAPSULE },
} satisfies Record<string, DrugDef>;

export type DrugKey = keyof typeof DRUGS;

/** Which drugs treat which chronic problem (first is first choice). */
export const TREATMENT: Partial<Record<ConditionKey, DrugKey[]>> = {
  hypertension: ['lisinopril', 'amlodipine', 'hydrochlorothiazide'],
  hypercholesterolaemia: ['atorvastatin', 'simvastatin'],
  diabetes2: ['metformin', 'gliclazide'],
  asthma: ['salbutamol', 'fluticasone'],
  copd: ['tiotropium', 'salbutamol'],
  atrialFibrillation: ['apixaban', 'metoprolol'],
  heartFailure: ['furosemide', 'metoprolol'],
  hypothyroidism: ['levothyroxine'],
  depression: ['sertraline'],
  kneeOsteoarthritis: ['paracetamol', 'naproxen'],
  lowBackPain: ['paracetamol'],
  reflux: ['omeprazole'],
  migraine: ['sumatriptan'],
  myocardialInfarction: ['acetylsalicylicAcid', 'clopidogrel', 'atorvastatin', 'metoprolol'],
  pneumonia: ['amoxicillin'],
};

export interface AllergenDef extends Concept {
  text: string;
  category: 'medication' | 'food' | 'environment' | 'biologic';
  reactions: Concept[];
}

export const ALLERGENS = {
  iodinatedContrast: {
    code: '426722004',
    display: 'Iodinated contrast media',
    text: 'Jodiumhoudende contrastmiddelen',
    category: 'medication',
    reactions: [
      { code: '126485001', display: 'Urticaria', text: 'Urticaria (netelroos)' },
      { code: '267036007', display: 'Dyspnea', text: 'Benauwdheid' },
    ],
  },
  penicillin: {
    code: '764146007',
    display: 'Penicillin',
    text: 'Penicillines',
    category: 'medication',
    reactions: [{ code: '271807003', display: 'Eruption of skin', text: 'Huiduitslag' }],
  },
  ibuprofen: {
    code: '387207008',
    display: 'Ibuprofen',
    text: 'Ibuprofen',
    category: 'medication',
    reactions: [{ code: '41291007', display: 'Angioedema', text: 'Angio-oedeem' }],
  },
  peanut: {
    code: '256349002',
    display: 'Peanut - dietary',
    text: 'Pinda',
    category: 'food',
    reactions: [{ code: '39579001', display: 'Anaphylaxis', text: 'Anafylaxie' }],
  },
  latex: {
    code: '111088007',
    display: 'Latex',
    text: 'Latex',
    category: 'environment',
    reactions: [{ code: '40275004', display: 'Contact dermatitis', text: 'Contacteczeem' }],
  },
  pollen: {
    code: '256259004',
    display: 'Pollen',
    text: 'Pollen (hooikoorts)',
    category: 'environment',
    reactions: [{ code: '70076002', display: 'Rhinitis', text: 'Rinitis' }],
  },
} satisfies Record<string, AllergenDef>;

export type AllergenKey = keyof typeof ALLERGENS;

export interface LabDef extends Concept {
  unit: string;
  /** Reference range and a plausible spread for synthetic values. */
  low: number;
  high: number;
  decimals: number;
}

export const LABS = {
  hba1c: { code: '59261-8', display: 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol', text: 'HbA1c', unit: 'mmol/mol', low: 20, high: 42, decimals: 0 },
  glucose: { code: '14771-0', display: 'Fasting glucose [Moles/volume] in Serum or Plasma', text: 'Glucose nuchter', unit: 'mmol/L', low: 4.0, high: 6.1, decimals: 1 },
  cholesterol: { code: '14647-2', display: 'Cholesterol [Moles/volume] in Serum or Plasma', text: 'Cholesterol totaal', unit: 'mmol/L', low: 3.5, high: 6.5, decimals: 1 },
  ldl: { code: '22748-8', display: 'Cholesterol in LDL [Moles/volume] in Serum or Plasma', text: 'LDL-cholesterol', unit: 'mmol/L', low: 1.5, high: 3.5, decimals: 1 },
  creatinine: { code: '14682-9', display: 'Creatinine [Moles/volume] in Serum or Plasma', text: 'Kreatinine', unit: 'umol/L', low: 60, high: 110, decimals: 0 },
  egfr: { code: '62238-1', display: 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)', text: 'eGFR (CKD-EPI)', unit: 'mL/min/{1.73_m2}', low: 60, high: 120, decimals: 0 },
  potassium: { code: '2823-3', display: 'Potassium [Moles/volume] in Serum or Plasma', text: 'Kalium', unit: 'mmol/L', low: 3.5, high: 5.0, decimals: 1 },
  hemoglobin: { code: '59260-0', display: 'Hemoglobin [Moles/volume] in Blood', text: 'Hemoglobine', unit: 'mmol/L', low: 7.5, high: 10.0, decimals: 1 },
  tsh: { code: '3016-3', display: 'Thyrotropin [Units/volume] in Serum or Plasma', text: 'TSH', unit: 'm[IU]/L', low: 0.4, high: 4.0, decimals: 1 },
  crp: { code: '1988-5', display: 'C reactive protein [Mass/volume] in Serum or Plasma', text: 'CRP', unit: 'mg/L', low: 0, high: 10, decimals: 0 },
} satisfies Record<string, LabDef>;

export type LabKey = keyof typeof LABS;

/** Vital signs as the FHIR vital-signs profile codes them (LOINC). */
export const VITALS = {
  bloodPressure: { code: '85354-9', display: 'Blood pressure panel with all children optional', text: 'Bloeddruk' },
  systolic: { code: '8480-6', display: 'Systolic blood pressure', text: 'Systolische bloeddruk' },
  diastolic: { code: '8462-4', display: 'Diastolic blood pressure', text: 'Diastolische bloeddruk' },
  heartRate: { code: '8867-4', display: 'Heart rate', text: 'Hartfrequentie' },
  bodyWeight: { code: '29463-7', display: 'Body weight', text: 'Lichaamsgewicht' },
  bodyHeight: { code: '8302-2', display: 'Body height', text: 'Lichaamslengte' },
  bmi: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', text: 'BMI' },
  temperature: { code: '8310-5', display: 'Body temperature', text: 'Lichaamstemperatuur' },
  oxygenSaturation: { code: '2708-6', display: 'Oxygen saturation in Arterial blood', text: 'Zuurstofsaturatie' },
} satisfies Record<string, Concept>;

export const PROCEDURES = {
  ctScan: { code: '77477000', display: 'Computerized axial tomography' },
  appendectomy: { code: '80146002', display: 'Appendectomy' },
  kneeReplacement: { code: '609588000', display: 'Total knee replacement' },
  hipReplacement: { code: '52734007', display: 'Total replacement of hip' },
  coronaryAngiography: { code: '33367005', display: 'Angiography of coronary artery' },
  pci: { code: '415070008', display: 'Percutaneous coronary intervention' },
  ecg: { code: '29303009', display: 'Electrocardiographic procedure' },
  chestXray: { code: '399208008', display: 'Plain chest X-ray' },
  physiotherapy: { code: '91251008', display: 'Physical therapy procedure' },
  woundCare: { code: '225358003', display: 'Wound care' },
  drugAdministration: { code: '18629005', display: 'Administration of drug or medicament' },
} satisfies Record<string, Concept>;

/** Vaccines coded with ATC (the Dutch vaccination programme records these). */
export const VACCINES = {
  influenza: { code: 'J07BB02', display: 'influenza, inactivated, split virus or surface antigen', text: 'Griepvaccin' },
  pneumococcal: { code: 'J07AL02', display: 'pneumococcus, purified polysaccharides antigen conjugated', text: 'Pneumokokkenvaccin' },
  tetanus: { code: 'J07AM01', display: 'tetanus toxoid', text: 'Tetanusvaccin' },
} satisfies Record<string, Concept & { text: string }>;

export const ENCOUNTER_TYPES = {
  consultation: { code: '11429006', display: 'Consultation' },
  emergency: { code: '50849002', display: 'Emergency room admission' },
  admission: { code: '32485007', display: 'Hospital admission' },
  homeVisit: { code: '439708006', display: 'Home visit' },
} satisfies Record<string, Concept>;

export const FLAGS = {
  fallRisk: { code: '129839007', display: 'At risk for falls', text: 'Valrisico', category: 'safety' },
  notForResuscitation: { code: '304253006', display: 'Not for resuscitation', text: 'Niet reanimeren', category: 'clinical' },
  mrsaCarrier: { code: '115329001', display: 'Methicillin resistant Staphylococcus aureus', text: 'MRSA-drager: isolatie', category: 'clinical' },
} satisfies Record<string, Concept & { text: string; category: string }>;
