"""Filing documents (算法备案 / 安全自评估): evidence from hegui turned into DOCX and PDF."""
