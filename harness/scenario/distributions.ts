import { median as sampleMedian } from '../analyze/order-statistics.ts';
import type { Distribution } from './schema.ts';

/** z such that P(Z <= z) = 0.99 for a standard normal Z. */
export const Z_99 = 2.3263478740408408;

/**
 * Turns independent uniforms into a draw of the distribution. Takes two uniforms because the
 * normal family needs two (Box-Muller); the others use the first.
 */
export function sample(dist: Distribution, u1: number, u2: number): number {
  switch (dist.dist) {
    case 'fixed':
      return dist.value;
    case 'uniform':
      return dist.min + (dist.max - dist.min) * u1;
    case 'normal':
      // Latencies and sizes cannot be negative: clamp rather than redraw, so draws stay aligned.
      return Math.max(0, dist.mean + dist.sd * standardNormal(u1, u2));
    case 'lognormal': {
      const { mu, sigma } = lognormalParameters(dist.median, dist.p99);
      return Math.exp(mu + sigma * standardNormal(u1, u2));
    }
    case 'empirical':
      return dist.samples[Math.min(dist.samples.length - 1, Math.floor(u1 * dist.samples.length))]!;
  }
}

export function standardNormal(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A lognormal is given by its median and 99th percentile, which is how people describe latency. */
export function lognormalParameters(median: number, p99: number): { mu: number; sigma: number } {
  const mu = Math.log(median);
  return { mu, sigma: (Math.log(p99) - mu) / Z_99 };
}

/** The distribution's median (interpolated between the middle two samples of an even count). */
export function median(dist: Distribution): number {
  switch (dist.dist) {
    case 'fixed':
      return dist.value;
    case 'uniform':
      return (dist.min + dist.max) / 2;
    case 'normal':
      return Math.max(0, dist.mean);
    case 'lognormal':
      return dist.median;
    case 'empirical':
      return sampleMedian(dist.samples);
  }
}
