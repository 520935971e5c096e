"""Chinese personal identifiers (个人信息): validated detection, masking, reversible tokens."""

from hegui.detect.pii.detector import MAX_PII_LENGTH, PII_TYPES, SEVERITY, PiiDetector, PiiSpan, find_pii, fold_width
from hegui.detect.pii.masking import MaskMode, PiiTokenizer, TokenRestorer, mask_text, partial_mask
from hegui.detect.pii.validators import (
    ResidentId,
    luhn_check_digit,
    luhn_ok,
    resident_id_check_char,
    uscc_check_char,
    validate_bank_card,
    validate_email,
    validate_hk_macau_permit,
    validate_ipv4,
    validate_ipv6,
    validate_landline,
    validate_license_plate,
    validate_mobile,
    validate_passport,
    validate_resident_id,
    validate_taiwan_permit,
    validate_uscc,
)

__all__ = [
    "MAX_PII_LENGTH", "PII_TYPES", "SEVERITY", "MaskMode", "PiiDetector", "PiiSpan", "PiiTokenizer", "ResidentId",
    "TokenRestorer", "find_pii", "fold_width", "luhn_check_digit", "luhn_ok", "mask_text", "partial_mask",
    "resident_id_check_char", "uscc_check_char", "validate_bank_card", "validate_email", "validate_hk_macau_permit",
    "validate_ipv4", "validate_ipv6", "validate_landline", "validate_license_plate", "validate_mobile",
    "validate_passport", "validate_resident_id", "validate_taiwan_permit", "validate_uscc",
]
