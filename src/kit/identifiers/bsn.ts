// BSN (burgerservicenummer): 9 digits passing the "11-test" (elfproef):
// 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 must be divisible by 11 (and the number is not 0).

export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(value[i]);
  sum -= Number(value[8]);
  return sum % 11 === 0 && value !== '000000000';
}

/**
 * Deterministic fictional BSNs for the sandbox, tests and scale generators: 9xxxxxxxc, where the
 * seven x digits come from the seed (10 million distinct numbers) and c makes the 11-test pass.
 * Seeds whose check digit would be 10 move on to the next seed.
 */
export function testBsn(seed: number): string {
  let n = Math.abs(Math.trunc(seed)) % 10_000_000;
  for (;;) {
    const prefix = `9${String(n).padStart(7, '0')}`;
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(prefix[i]);
    const check = sum % 11;
    if (check <= 9) return prefix + String(check);
    n = (n + 1) % 10_000_000;
  }
}

/** Masks a BSN for anything a human might read in a log: keeps the last two digits. */
export function maskBsn(value: string): string {
  return value.length >= 2 ? `*******${value.slice(-2)}` : '*';
}
