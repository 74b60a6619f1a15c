import ArgumentParser
import DivSeg
import DivSegExperiments
import DivSegIO

// The library's option enums, parsed by ArgumentParser itself: `--help` lists their values
// and a wrong value is refused with them, without a hand-written check per command.
extension HDF5Storage: ExpressibleByArgument {}
extension SamplingStrategy: ExpressibleByArgument {}
extension DenseBackground: ExpressibleByArgument {}
extension LabelRefinement.Method: ExpressibleByArgument {}
extension LocalizerKind: ExpressibleByArgument {}
extension LocalizerLoss: ExpressibleByArgument {}
extension LocalizerScore: ExpressibleByArgument {}
extension OracleSampler.Strategy: ExpressibleByArgument {}
