/** Minimal declaration of the part of jstat (untyped) that dirmag uses. */
declare module 'jstat' {
  export const jStat: {
    studentt: {
      /** Student t cumulative distribution function P(T ≤ x) with `dof` degrees of freedom. */
      cdf(x: number, dof: number): number;
    };
  };
}
