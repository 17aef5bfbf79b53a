#pragma once
// Which batch fields a forward model (torchscript:, exported:) takes. When the
// job leaves model.inputs out they come from the data the stage reads:
// input_ids for sequences (FASTA, a table's sequence column), features for
// tables and synthetic data. Named inputs, and the loss's target, are checked
// against the fields that data has, so a wrong name stops the job before it runs.
#include "minitrain/base/diagnostics.hpp"
#include "minitrain/core/events.hpp"
#include "minitrain/job/config.hpp"

namespace minitrain {

// At the job check, for data whose fields its arguments tell: sets job.model's
// `inputs` (and the resolved job's) when they are chosen; reports what does not fit.
void choose_model_inputs(JobConfig& job, Stage stage, Diagnostics& diagnostics);

// Once `data` is read, for data only its file names the fields of (a tensor
// file without `keys`): the same, throwing ConfigError for what does not fit.
void choose_model_inputs(JobConfig& job, Stage stage, const DatasetConfig& config, const Dataset& data);

}  // namespace minitrain
