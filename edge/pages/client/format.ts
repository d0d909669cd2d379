// Number formats shared by the pages. Pure.

/** "$0.000123" for small amounts, "$12.34" for large ones. */
export function usd(amount: number): string {
  if (amount === 0) return "$0";
  if (Math.abs(amount) >= 1) return `$${amount.toFixed(2)}`;
  return `$${Number(amount.toPrecision(3))}`;
}

export function ms(value: number | null): string {
  if (value === null) return "–";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export const count = (n: number) => n.toLocaleString("en-US");
