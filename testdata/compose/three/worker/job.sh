cat /base.txt; echo worker
