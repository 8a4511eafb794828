import { describe, expect, it } from '@jest/globals';
import { RandomPool } from './random-pool.js';

describe('RandomPool', () => {
  it('hands out each byte once, across refills, in buffers of their own', () => {
    const pool = new RandomPool(64);
    const draws = Array.from({ length: 200 }, () => pool.draw(12)); // 64 bytes hold 5 draws: 40 refills
    expect(draws.every((d) => d.length === 12)).toBe(true);
    // 96 random bits each: any repeat means bytes were handed out twice.
    expect(new Set(draws.map((d) => d.toString('hex'))).size).toBe(200);
    // Own memory: changing one draw changes no other.
    const copy = Buffer.from(draws[1]!);
    draws[0]!.fill(0xff);
    expect(draws[1]!.equals(copy)).toBe(true);
  });

  it('is not all zeros or one repeated byte (the pool is filled from the CSPRNG)', () => {
    const bytes = Buffer.concat(Array.from({ length: 100 }, () => new RandomPool().draw(16)));
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });

  it('refuses a draw it cannot make', () => {
    const pool = new RandomPool(32);
    for (const count of [0, -1, 1.5, 33]) expect(() => pool.draw(count)).toThrow(RangeError);
  });
});

describe('RandomPool.token', () => {
  it('is base64url of as many fresh bytes, each byte handed out once', () => {
    const pool = new RandomPool(64);
    const tokens = Array.from({ length: 100 }, () => pool.token(24));
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(24);
    }
    expect(new Set(tokens).size).toBe(100);
    expect(pool.token(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(() => pool.token(65)).toThrow(RangeError);
  });
});
