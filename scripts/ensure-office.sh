#!/usr/bin/env bash
# Make LibreOffice Writer (headless DOCX -> PDF) and poppler-utils (PDF -> PNG) available for the
# reporting export tests. Installs them with apt-get when missing and running as root; otherwise
# says what is missing and exits non-zero, so a CI run fails loudly instead of skipping.
set -euo pipefail

missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# Liberation Serif is Times New Roman's metric twin, so the render keeps the report's layout; version 2
# (fonts-liberation2) has the Vietnamese precomposed letters (ề, ế, ữ …) that version 1 lacks.
fonts=$(fc-list 2>/dev/null || true)  # not piped into grep -q: with pipefail its early exit fails the check
[[ $fonts == *liberation2/LiberationSerif* ]] || missing+=(fonts-liberation2)

if [ ${#missing[@]} -eq 0 ]; then
    echo "ensure-office: soffice and pdftoppm present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-office: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig
echo "ensure-office: installed ${missing[*]}"
