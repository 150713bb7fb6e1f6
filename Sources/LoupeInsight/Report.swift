import LoupeLab
