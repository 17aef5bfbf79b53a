#pragma once
// The writer's output_dir: checked before a run starts, and its prediction
// files found for overwrite, resume (asked for, or after a restart) and the
// refusal to mix runs.
#include <filesystem>
#include <optional>
#include <vector>

namespace minitrain::plugins {

// Final prediction files in `dir`: of every rank, or of one; temporaries too if asked.
std::vector<std::filesystem::path> prediction_files(const std::filesystem::path& dir, std::optional<int> rank,
                                                    bool with_temporaries);

// Error when `dir` already holds prediction files (of `rank`, or of any rank), with the ways out.
void refuse_existing_predictions(const std::filesystem::path& dir, std::optional<int> rank);

// Error unless `dir` is, or can be made, a directory this user can write to;
// and, if `refuse_existing`, one without prediction files. Creates nothing.
void check_output_dir(const std::filesystem::path& dir, bool refuse_existing);

// Whether the writer resumes: when asked to (`resume`), and in a run that `minitrain launch
// --max_restarts` started again, unless asked to overwrite: that run keeps the complete files
// of the attempt that failed (logged), as torchrun users make their jobs do.
bool resumes(bool resume, bool overwrite);

}  // namespace minitrain::plugins
