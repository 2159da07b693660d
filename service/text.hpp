// Text hygiene: what the daemon accepts as a display string and how it echoes arbitrary bytes.
#pragma once

#include <string>
#include <string_view>

namespace loopvisor::service {

/// The length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one
/// (overlong forms, surrogates and code points past U+10FFFF are not valid).
std::size_t utf8_sequence(std::string_view s);

/// `bytes` as UTF-8 text: each byte that does not start a valid sequence becomes U+FFFD, so the
/// result can go into JSON (whose strings must be UTF-8) whatever it came from.
std::string valid_utf8(std::string_view bytes);

/// True for valid UTF-8 with nothing that can forge or disguise a log line: no C0 or C1
/// control, DEL, line or paragraph separator (U+2028, U+2029) or bidirectional control
/// (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069).
bool display_safe(std::string_view text);

}  // namespace loopvisor::service
