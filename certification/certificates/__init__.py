"""Certificates: codes, issuing, revoking and reissuing, the PDF, its seals, verification."""
