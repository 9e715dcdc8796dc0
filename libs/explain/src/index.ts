export { ExplainModule } from './explain.module';
export { ExplainService } from './explain.service';
export { explainQuery } from './explain.query';
export { explainVerdict } from './domain/verdict';
export type { ExplainFacts, Verdict, VerdictCode } from './domain/verdict';
