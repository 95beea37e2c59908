/** dirmag reproduce: steps, published numbers, computed verdicts, REPORT.md. */
export * from './verdict';
export * from './step';
export * from './published-main';
export * from './main-step';
export * from './reproduce';
export * from './beyond-step';
export * from './crossmodel-step';
export * from './mechanism-step';
export * from './paper-results';
export * from './paper-tables';
export * from './statistics-export';
export * from './paper-step';
