import { positiveNumber, type LocationTransformSpec } from './types.js';
import { LAT, LON } from '../geo.js';

const M_PER_DEG = 111_320;

/**
 * Planar Laplace noise: ε-geo-indistinguishability (Andrés et al., CCS 2013, §4.1). `epsilon`
 * is per metre: two places r metres apart are indistinguishable up to a factor e^(ε·r).
 * The polar form draws a uniform angle and a radius with density ε²·r·e^(−ε·r), which is a
 * Gamma(2, 1/ε) variable: the sum of two exponentials, so no Lambert W is needed.
 */
export const noise: LocationTransformSpec = {
  kind: 'location',
  options: ['epsilon'],
  compile(options) {
    const epsilon = positiveNumber(options, 'epsilon');
    // Below 1e-6 /m the expected offset (2/ε) is beyond 2,000 km: no longer a location.
    if (epsilon < 1e-6) throw new Error('epsilon below 0.000001 per metre moves points by thousands of km; use drop');
    return {
      outputs: [LAT, LON],
      describe: () => `noised (planar Laplace, epsilon ${epsilon} per metre)`,
      apply(lat, lon, ctx, _level, out) {
        const theta = ctx.random() * 2 * Math.PI;
        const r = -(Math.log(1 - ctx.random()) + Math.log(1 - ctx.random())) / epsilon;
        const nLat = Math.max(-90, Math.min(90, lat + (r * Math.sin(theta)) / M_PER_DEG));
        const cos = Math.max(0.01, Math.cos((lat * Math.PI) / 180));
        let nLon = lon + (r * Math.cos(theta)) / (M_PER_DEG * cos);
        if (nLon > 180) nLon -= 360;
        if (nLon < -180) nLon += 360;
        out[LAT] = Number(nLat.toFixed(6));
        out[LON] = Number(nLon.toFixed(6));
      },
    };
  },
};
