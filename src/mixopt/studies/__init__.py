"""One module per study, each matching one rule file (``workflow/rules/<study>.smk``) and one
report module: ``flaherty_pam50`` (Sec. 4.2), ``fois_ch1`` (thesis Ch. 1), ``fois_ch23`` (thesis
Chs. 2-3). The Flaherty et al. Sec. 4.1 jobs (Table 2, Fig. 1, EM restarts, Bandi) run through
:mod:`mixopt.runner`, the one MAP job runner the CLI shares."""
