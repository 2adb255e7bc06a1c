// A lookup table built lazily on first use (in the warmup) and reused ever after.
'use strict';

class CountryInfo {
  constructor(code, index) {
    this.code = code;
    this.index = index;
    this.vatRate = (index % 25) / 100;
  }
}

let table = null;

function countryTable() {
  if (table === null) {
    table = new Map();
    for (let i = 0; i < 500; i++) {
      const code = `C${i.toString(36).toUpperCase()}`;
      table.set(code, new CountryInfo(code, i));
    }
  }
  return table;
}

function priceWithVat(code, net) {
  const info = countryTable().get(code);
  return info ? net * (1 + info.vatRate) : net;
}

globalThis.vat = { priceWithVat };
console.log('vat ready');
setInterval(() => {}, 1 << 30);
