// fmt's compiled part, built once for every program here. Each other file includes fmt's
// headers without FMT_HEADER_ONLY, so it sees declarations only and does not compile fmt's
// formatting engine again (that alone about doubled the compile time of a small file). Debian
// ships libfmt as a shared library only, and tinysh and nslab are static, hence this file.
//
// format-inl.h holds the definitions; the explicit instantiations below are the templates
// format.h declares `extern` and core.h leaves to one translation unit.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view,
                                 basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

}  // namespace detail
FMT_END_NAMESPACE
