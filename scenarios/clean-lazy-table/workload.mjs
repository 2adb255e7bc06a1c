// ES module workload: 400 price computations per iteration.
export async function iteration() {
  let total = 0;
  for (let i = 0; i < 400; i++) total += globalThis.vat.priceWithVat(`C${(i % 500).toString(36).toUpperCase()}`, 10);
  await Promise.resolve();
  return total;
}
