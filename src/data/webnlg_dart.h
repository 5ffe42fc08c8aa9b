// WebNLG (challenge 2017) and DART data-to-text files, read the way AdaMix's and LoRA's NLG code
// formats them (format_converting_webnlg.py / format_converting_dart.py): each input is its triples
// as "subject : property : object" joined by " | ", one row per reference text.
#pragma once
#include <string>
#include <string_view>

#include "data/glue_e2e.h"

namespace peft {

// WebNLG 2017 as JSON ({"entries": [{"1": {"category", "modifiedtripleset": [{"subject",
// "property", "object"}], "lexicalisations": [{"lex", "comment"}]}}, ...]}): the lexicalisations
// whose comment is "good", as the converter keeps. Errors name the file and entry.
Result<VerbalFile> parse_webnlg_json(std::string_view content, const std::string& name);

// DART (dart-v1.1.1-full-*.json: [{"tripleset": [[s, r, o], ...], "annotations": [{"text"}]}]):
// relations lower-cased, as the converter does. Errors name the file and entry.
Result<VerbalFile> parse_dart_json(std::string_view content, const std::string& name);

}  // namespace peft
