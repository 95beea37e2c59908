/** Issue 9's measurements (not in the original): what the norms see, norm interference, residual geometry. */
import { resultsTable } from '../tables';
import * as B from '../experiments/beyond';
import { Step, emptyOutput } from './step';

export const beyondStep: Step = {
  name: 'beyond the paper (norm view, norm interference, residual geometry)',
  async run(study) {
    const out = emptyOutput();
    const quick = study.quick;
    const nv = B.summarizeNormView(await B.runNormView(study, B.normViewSettings(study, { quick })), study.name);
    out.tables['beyond_norm_view'] = resultsTable(B.normViewRows(nv));
    out.figures['beyond_norm_view'] = B.normViewFigure(nv, study.model.cfg.dModel);
    const inter = B.summarizeInterference(await B.runInterference(study, B.interferenceSettings(study, { quick })));
    out.figures['beyond_norm_interference'] = B.interferenceFigure(inter, study.name);
    const cs = B.contrastSettings(study);
    const con = B.summarizeContrast(await B.runContrast(study, cs));
    out.figures['beyond_residual_geometry'] = B.contrastFigure(con, study.name);
    out.prose = [
      B.describeNormView(nv),
      B.describeInterference(inter, study.name),
      B.describeContrast(con, study.name, cs.skipped),
    ];
    return out;
  },
};
