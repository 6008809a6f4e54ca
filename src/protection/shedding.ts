import type { AgentConfig } from '../config';

/**
 * How much work the agent sheds, in a fixed order: the costliest extras first, sampling last.
 * 0 nothing; 1 compression and keep-findings off; 2 analysis off too; 3 the sampling rate lowered.
 */
export type ShedLevel = 0 | 1 | 2 | 3;

export const SHED_STEPS: Record<ShedLevel, string> = {
  0: 'none',
  1: 'compression and keep-findings off',
  2: 'compression, keep-findings and analysis off',
  3: 'compression, keep-findings and analysis off, sampling rate lowered',
};

/** The configuration in force: the user's, with what the current level sheds switched off. */
export function applyShedding(config: AgentConfig, level: ShedLevel, rateFactor: number): AgentConfig {
  if (level === 0) return config;
  return {
    ...config,
    compression: { ...config.compression, enabled: false },
    sampling: {
      ...config.sampling,
      keepFindings: false,
      rate: level >= 3 ? config.sampling.rate * rateFactor : config.sampling.rate,
    },
    analysis: { ...config.analysis, enabled: level >= 2 ? false : config.analysis.enabled },
  };
}
